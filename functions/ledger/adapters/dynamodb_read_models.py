"""The read models and the notification log in DynamoDB: every write is conditional, so each one is idempotent."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_items import from_item, to_attribute, to_item
from ledger.application.alert_messages import alert_body, alert_of
from ledger.application.codec import from_json
from ledger.domain.accounts import Account
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


def _failed_condition(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDBAccountViews:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def put_if_newer(self, account: Account) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(asdict(account)),
                ConditionExpression="attribute_not_exists(account_id) OR version < :version",
                ExpressionAttributeValues={":version": to_attribute(account.version)},
            )
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def replace(self, account: Account) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(asdict(account)))

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if cursor is not None:
            request["ExclusiveStartKey"] = {"account_id": {"S": _decode_cursor(cursor)}}
        accounts: list[Account] = []
        while True:  # a Scan page may come back short of `limit` items (1 MB); keep going until full or done
            response = self._client.scan(**request)
            accounts += [from_json(Account, from_item(item)) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or len(accounts) >= limit:
                break
            request = {**request, "ExclusiveStartKey": last, "Limit": limit - len(accounts)}
        return accounts, (_encode_cursor(str(last["account_id"]["S"])) if last else None)


def _encode_cursor(account_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": account_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = body["after"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError("not a cursor this API gave out") from error
    if not isinstance(after, str):
        raise ValueError("not a cursor this API gave out")
    return after


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
            if _failed_condition(error):
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
        return _delete_all(self._client, self._table, "alert_id")


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
        return _delete_all(self._client, self._table, "report_id")


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
            if _failed_condition(error):
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


def _delete_all(client: DynamoDBClient, table: str, key: str) -> int:
    deleted = 0
    for batch in _key_batches(client, table, key):
        pending: Any = {table: [{"DeleteRequest": {"Key": k}} for k in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        deleted += len(batch)
    return deleted


def _key_batches(client: DynamoDBClient, table: str, key: str) -> Iterator[list[dict[str, Any]]]:
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#k",
        "ExpressionAttributeNames": {"#k": key},
    }
    batch: list[dict[str, Any]] = []
    while True:
        response = client.scan(**request)
        for item in response.get("Items", []):
            batch.append({key: item[key]})
            if len(batch) == 25:
                yield batch
                batch = []
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if batch:
        yield batch
