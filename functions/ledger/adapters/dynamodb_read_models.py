"""The read models and the notification log in DynamoDB: every write is conditional, so each one is idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_counters import CountersTable, Increment
from ledger.adapters.dynamodb_items import from_item, to_item
from ledger.adapters.dynamodb_tables import delete_all, failed_condition
from ledger.application.alert_messages import alert_body, alert_of
from ledger.application.ports import feed_position
from ledger.domain.fraud import Alert
from ledger.domain.reports import DailyTotals, ReportKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_FEED: Final = "alerts"

_TOTALS: Final = tuple(f.name for f in fields(DailyTotals))


class DynamoDBAlertViews:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def put_if_absent(self, alert: Alert) -> bool:
        # What an alert is not about is left out: the by_account and by_order indexes hold only their own alerts.
        body = {name: value for name, value in alert_body(alert).items() if value is not None}
        item = to_item(body) | {
            "feed": {"S": _FEED},
            "raised_key": {"S": feed_position(alert)},
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(alert_id)"
            )
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def newest(
        self, *, account_id: str | None = None, order_id: str | None = None, limit: int, before: str | None = None
    ) -> list[Alert]:
        if account_id is not None:
            index, key, value = "by_account", "account_id", account_id
        elif order_id is not None:
            index, key, value = "by_order", "order_id", order_id
        else:
            index, key, value = "newest", "feed", _FEED
        condition, values = f"{key} = :value", {":value": {"S": value}}
        if before is not None:  # the sort key is the feed position: the next page starts below the last one shown
            condition, values = f"{condition} AND raised_key < :before", {**values, ":before": {"S": before}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        alerts: list[Alert] = []
        while True:  # a page may come back short of `limit` (1 MB read); keep going until full or done
            response = self._client.query(**request)
            alerts += [alert_of(_alert_fields(item)) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or len(alerts) >= limit:
                return alerts[:limit]
            request = {**request, "ExclusiveStartKey": last, "Limit": limit - len(alerts)}

    def clear(self) -> int:
        return delete_all(self._client, self._table, "alert_id")


def _alert_fields(item: dict[str, Any]) -> dict[str, Any]:
    values = from_item(item)
    return {key: value for key, value in values.items() if key not in ("feed", "raised_key")}


class DynamoDBReportStore:
    def __init__(self, client: DynamoDBClient, table: str, clock: Any = None) -> None:
        self._client, self._table = client, table
        self._counters = CountersTable(
            client,
            table,
            marker_key=lambda event_id: {"report_id": f"applied#{event_id}"},
            **({"clock": clock} if clock is not None else {}),
        )

    def add(self, contributions: Sequence[tuple[str, ReportKey, DailyTotals]]) -> int:
        by_event: dict[tuple[str, ReportKey], DailyTotals] = {}
        for event_id, key, totals in contributions:  # an event adds to a report once, however often it is listed
            by_event.setdefault((event_id, key), totals)
        return self._counters.add(
            [
                (
                    event_id,
                    Increment(
                        {"report_id": report_id(key)},
                        {name: getattr(totals, name) for name in _TOTALS},
                        {"day": key.day.isoformat(), "account_id": key.account_id},
                    ),
                )
                for (event_id, key), totals in by_event.items()
            ]
        )

    def totals(self, key: ReportKey) -> DailyTotals:
        item = self._client.get_item(
            TableName=self._table, Key={"report_id": {"S": report_id(key)}}, ConsistentRead=True
        )
        values = from_item(item.get("Item", {}))
        return DailyTotals(**{name: int(values.get(name, 0)) for name in _TOTALS})

    def clear(self) -> int:
        return delete_all(self._client, self._table, "report_id")


def report_id(key: ReportKey) -> str:
    return f"{key.day.isoformat()}#{key.account_id}"


class DynamoDBNotificationLog:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def claim(self, alert_id: str, *, now: str) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"alert_id": {"S": alert_id}, "status": {"S": "claimed"}, "claimed_at": {"S": now}},
                ConditionExpression="attribute_not_exists(alert_id) OR #status <> :sent",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":sent": {"S": "sent"}},
            )
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def mark_sent(self, alert_id: str, *, message_id: str, now: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"alert_id": {"S": alert_id}},
            UpdateExpression="SET #status = :sent, message_id = :message, sent_at = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": {"S": "sent"}, ":message": {"S": message_id}, ":now": {"S": now}},
        )
