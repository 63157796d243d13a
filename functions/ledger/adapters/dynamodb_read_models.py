"""The read models and the notification log in DynamoDB: every write is conditional, so each one is idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_items import from_item, to_attribute, to_item
from ledger.adapters.dynamodb_tables import delete_all, failed_condition
from ledger.application.alert_messages import alert_body, alert_of
from ledger.domain.fraud import Alert
from ledger.domain.reports import DailyTotals, ReportKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_FEED: Final = "alerts"
_TOTALS: Final = tuple(f.name for f in fields(DailyTotals))
# Markers outlive any redelivery: a record is retried for at most a day (max record age), a DLQ keeps it 14 days.
MARKER_TTL: Final = timedelta(days=30)
# A transaction holds at most 100 items: each event's marker plus the (at most two) totals items it adds to.
_EVENTS_PER_TRANSACTION: Final = 30


class DynamoDBAlertViews:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def put_if_absent(self, alert: Alert) -> bool:
        item = to_item(alert_body(alert)) | {
            "feed": {"S": _FEED},
            "raised_key": {"S": f"{alert.raised_at}#{alert.alert_id}"},
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

    def newest(self, *, account_id: str | None, limit: int) -> list[Alert]:
        if account_id is None:
            index, key, value = "newest", "feed", _FEED
        else:
            index, key, value = "by_account", "account_id", account_id
        response = self._client.query(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression=f"{key} = :value",
            ExpressionAttributeValues={":value": {"S": value}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [alert_of(_alert_fields(item)) for item in response.get("Items", [])]

    def clear(self) -> int:
        return delete_all(self._client, self._table, "alert_id")


def _alert_fields(item: dict[str, Any]) -> dict[str, Any]:
    values = from_item(item)
    return {key: value for key, value in values.items() if key not in ("feed", "raised_key")}


class DynamoDBReportStore:
    def __init__(self, client: DynamoDBClient, table: str, clock: Any = None) -> None:
        self._client, self._table = client, table
        self._clock = clock or (lambda: datetime.now(UTC))

    def add(self, contributions: Sequence[tuple[str, ReportKey, DailyTotals]]) -> int:
        by_event: dict[str, dict[ReportKey, DailyTotals]] = {}
        for event_id, key, totals in contributions:  # an event adds to a report once, however often it is listed
            by_event.setdefault(event_id, {}).setdefault(key, totals)
        events = list(by_event.items())
        added = 0
        for start in range(0, len(events), _EVENTS_PER_TRANSACTION):
            added += self._add_chunk(dict(events[start : start + _EVENTS_PER_TRANSACTION]))
        return added

    def _add_chunk(self, chunk: dict[str, dict[ReportKey, DailyTotals]]) -> int:
        """One transaction: a marker per event (absent until now) and the summed totals per report."""
        while chunk:
            event_ids = list(chunk)
            sums: dict[ReportKey, DailyTotals] = {}
            for parts in chunk.values():
                for key, totals in parts.items():
                    sums[key] = sums.get(key, DailyTotals()) + totals
            expires = int((self._clock() + MARKER_TTL).timestamp())
            items: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {"report_id": {"S": f"applied#{event_id}"}, "expires_at": {"N": str(expires)}},
                        "ConditionExpression": "attribute_not_exists(report_id)",
                    }
                }
                for event_id in event_ids
            ]
            items += [self._update(key, totals) for key, totals in sums.items()]
            try:
                self._client.transact_write_items(TransactItems=cast(Any, items))
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in cast(Any, error.response).get("CancellationReasons", [])]
                seen = {
                    event_ids[i] for i, code in enumerate(reasons[: len(event_ids)]) if code == "ConditionalCheckFailed"
                }
                if not seen:
                    raise  # a conflict with a concurrent writer: the batch is retried
                chunk = {event_id: parts for event_id, parts in chunk.items() if event_id not in seen}
                continue
            return len(chunk)
        return 0

    def _update(self, key: ReportKey, totals: DailyTotals) -> dict[str, Any]:
        values = {f":{name}": to_attribute(getattr(totals, name)) for name in _TOTALS}
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"report_id": {"S": report_id(key)}},
                "UpdateExpression": "SET #day = :day, account_id = :account ADD "
                + ", ".join(f"{name} :{name}" for name in _TOTALS),
                "ExpressionAttributeNames": {"#day": "day"},
                "ExpressionAttributeValues": values
                | {":day": {"S": key.day.isoformat()}, ":account": {"S": key.account_id}},
            }
        }

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
