"""A read model of one aggregate type's states in DynamoDB: one item per aggregate, keyed by its id, holding its
encoded state and the version it is at. Writes are conditional on the version, so any order of delivery converges."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_items import from_item, to_attribute, to_item
from ledger.adapters.dynamodb_tables import failed_condition
from ledger.kernel.codec import StateCodec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

S = TypeVar("S")
VERSION: Final = "version"
# The feed index: one partition per UTC day (FEED), newest first within it (FEED_KEY = "<instant>#<id>").
FEED_INDEX: Final = "newest"
FEED: Final = "feed"
FEED_KEY: Final = "feed_key"
FEED_DAYS: Final = 7  # how far back `newest` looks for rows


class DynamoDBStateViews(Generic[S]):
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        key: str,
        codec: StateCodec[S],
        feed_instant: Callable[[S], str] | None = None,  # rows listed newest first by this instant (ISO-8601)
    ) -> None:
        self._client, self._table, self._key, self._codec = client, table, key, codec
        self._feed_instant = feed_instant
        feed = {FEED, FEED_KEY} if feed_instant is not None else set()
        # Attributes the item holds beside the state's own fields (the key and the version, unless the state has them)
        self._added = frozenset({key, VERSION, *feed}) - codec.field_names

    def _item(self, aggregate_id: str, version: int, state: S) -> dict[str, Any]:
        values: dict[str, Any] = {**self._codec.encode(state), self._key: aggregate_id, VERSION: version}
        if self._feed_instant is not None:
            instant = self._feed_instant(state)
            values |= {FEED: instant[:10], FEED_KEY: f"{instant}#{aggregate_id}"}
        return to_item(values)

    def put_if_newer(self, aggregate_id: str, version: int, state: S) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(aggregate_id, version, state),
                ConditionExpression=f"attribute_not_exists(#key) OR {VERSION} < :version",
                ExpressionAttributeNames={"#key": self._key},
                ExpressionAttributeValues={":version": to_attribute(version)},
            )
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def replace(self, aggregate_id: str, version: int, state: S) -> None:
        self._client.put_item(TableName=self._table, Item=self._item(aggregate_id, version, state))

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[S], str | None]:
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if cursor is not None:
            request["ExclusiveStartKey"] = {self._key: {"S": _decode_cursor(cursor)}}
        states: list[S] = []
        while True:  # a Scan page may come back short of `limit` items (1 MB); keep going until full or done
            response = self._client.scan(**request)
            states += [self._state(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or len(states) >= limit:
                break
            request = {**request, "ExclusiveStartKey": last, "Limit": limit - len(states)}
        return states, (_encode_cursor(str(last[self._key]["S"])) if last else None)

    def newest(self, *, limit: int, cursor: str | None, today: date | None = None) -> tuple[list[S], str | None]:
        """Rows newest first: today's feed partition, then the days before, up to FEED_DAYS back."""
        if self._feed_instant is None:
            raise TypeError(f"the views of {self._table} keep no feed")
        day, after = _decode_feed_cursor(cursor) if cursor else ((today or datetime.now(UTC).date()).isoformat(), None)
        states: list[S] = []
        oldest = date.fromisoformat(day) - timedelta(days=FEED_DAYS)
        while len(states) < limit and date.fromisoformat(day) > oldest:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": FEED_INDEX,
                "KeyConditionExpression": f"{FEED} = :day" + (f" AND {FEED_KEY} < :after" if after else ""),
                "ExpressionAttributeValues": {":day": {"S": day}} | ({":after": {"S": after}} if after else {}),
                "ScanIndexForward": False,
                "Limit": limit - len(states),
            }
            response = self._client.query(**request)
            items = response.get("Items", [])
            states += [self._state(item) for item in items]
            if items:
                after = str(items[-1][FEED_KEY]["S"])
            if "LastEvaluatedKey" not in response:
                day, after = (date.fromisoformat(day) - timedelta(days=1)).isoformat(), None
        more = len(states) >= limit and date.fromisoformat(day) > oldest
        return states, (_encode_feed_cursor(day, after) if more else None)

    def _state(self, item: dict[str, Any]) -> S:
        values = {name: value for name, value in from_item(item).items() if name not in self._added}
        state = self._codec.decode(self._codec.schema_version, values)
        if state is None:
            raise ValueError(f"a row of {self._table} does not hold a state of the current shape: rebuild it")
        return state


def _encode_feed_cursor(day: str, after: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"day": day, "before": after}).encode()).decode().rstrip("=")


def _decode_feed_cursor(cursor: str) -> tuple[str, str | None]:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        day, before = body["day"], body["before"]
        date.fromisoformat(day)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError("not a cursor this API gave out") from error
    if not isinstance(day, str) or not (before is None or isinstance(before, str)):
        raise ValueError("not a cursor this API gave out")
    return day, before


def _encode_cursor(aggregate_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": aggregate_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = body["after"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError("not a cursor this API gave out") from error
    if not isinstance(after, str):
        raise ValueError("not a cursor this API gave out")
    return after
