"""The DynamoDB event store: the only module that reads or writes events, snapshots and idempotency records.

Table layout (one partition per stream, see docs/event-store.md):

    aggregate_id (S, partition key) | seq (N, sort key) | kind
    Order#o-1                       | 1                 | event      OrderPlaced ... + state after it
    Order#o-1                       | 2                 | event      ItemAddedToOrder ... + state after it
    ...
    Order#o-1                       | 100               | event
    Order#o-1                       | 100.5             | snapshot   state after event 100
    Order#o-1                       | 101               | event
    acc-1                           | 1                 | event      (a type whose streams keep bare keys)

The partition key is the stream key: "<aggregate type>#<aggregate id>", so ids are scoped by type; a type declared
with bare stream keys (its streams predate scoping) keeps the bare id, which never holds '#' and so never equals a
scoped key. Items carry `aggregate_type`, and records read back carry the plain id.

Events sit at their version and carry the aggregate's state after them, so a load usually reads one item: the
newest. Snapshots (every `snapshot_interval` events) sit at V + 0.5, right after the event they sum up, and bound a
load that finds no usable state on the newest events (e.g. after the state's shape changed). Items are only ever Put
with `attribute_not_exists`: nothing is updated or deleted. The local secondary index `by_time` (sort key
`at_version` = occurred_at#version, on events only) answers "which version was current at instant T".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_items import from_attribute, from_item, to_attribute, to_item
from ledger.kernel.errors import ConcurrencyConflictError, IdempotencyKeyInUseError
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY: Final = "aggregate_id"
SORT_KEY: Final = "seq"
TIME_INDEX: Final = "by_time"
TIME_INDEX_KEY: Final = "at_version"
IDEMPOTENCY_KEY: Final = "idempotency_key"
EXPIRES_AT: Final = "expires_at"
EVENT: Final = "event"
SNAPSHOT: Final = "snapshot"
_NOT_EXISTS: Final = f"attribute_not_exists({PARTITION_KEY})"
SCOPE: Final = "#"


def stream_key(stream: StreamId, bare_types: frozenset[str] = frozenset()) -> str:
    """The partition key of a stream: "<type>#<id>", or the bare id for a type in `bare_types`."""
    if stream.aggregate_type not in bare_types:
        return f"{stream.aggregate_type}{SCOPE}{stream.aggregate_id}"
    if SCOPE in stream.aggregate_id:
        raise ValueError(f"{stream} cannot be stored under a bare key: its id holds {SCOPE!r}")
    return stream.aggregate_id


def aggregate_id_of(key: str, aggregate_type: str) -> str:
    """The plain aggregate id of a stream key (the inverse of `stream_key`, whatever the type's keying)."""
    prefix = f"{aggregate_type}{SCOPE}"
    return key[len(prefix) :] if key.startswith(prefix) else key


def snapshot_seq(version: int) -> str:
    return f"{version}.5"


def time_index_key(occurred_at: str, version: int) -> str:
    """Sorts by instant, then version; '#' sorts before '$', so `< instant + "$"` means "at or before instant"."""
    return f"{occurred_at}#{version:020d}"


class DynamoDBEventStore:
    def __init__(
        self,
        client: DynamoDBClient,
        *,
        event_table: str,
        idempotency_table: str | None = None,  # needed to append or read idempotency records (commands)
        bare_stream_key_types: frozenset[str] = frozenset(),
    ) -> None:
        self._client = client
        self._events = event_table
        self._idempotency = idempotency_table
        self._bare = bare_stream_key_types

    def _key(self, stream: StreamId) -> str:
        return stream_key(stream, self._bare)

    def item_of(self, record: StreamItem) -> dict[str, Any]:
        """The item this store writes for `record` (for tools that load the table directly)."""
        key = self._key(record.stream)
        return event_item(record, key) if isinstance(record, EventRecord) else snapshot_item(record, key)

    def _idempotency_table(self) -> str:
        if self._idempotency is None:
            raise RuntimeError("this event store was built without an idempotency table")
        return self._idempotency

    # --- writes ------------------------------------------------------------------------------------------------

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        puts: list[dict[str, Any]] = [
            {"TableName": self._events, "Item": event_item(e, self._key(e.stream)), "ConditionExpression": _NOT_EXISTS}
            for e in events
        ]
        if puts:  # a lost race answers the event that took the first version, with its state: no read to retry
            puts[0]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if snapshot is not None:
            item = snapshot_item(snapshot, self._key(snapshot.stream))
            puts.append({"TableName": self._events, "Item": item, "ConditionExpression": _NOT_EXISTS})
        if idempotency is not None:
            puts.append(
                {
                    "TableName": self._idempotency_table(),
                    "Item": idempotency_item(idempotency),
                    "ConditionExpression": f"attribute_not_exists({IDEMPOTENCY_KEY}) OR {EXPIRES_AT} < :now",
                    "ExpressionAttributeValues": {":now": to_attribute(idempotency.recorded_epoch)},
                }
            )
        if len(puts) == 1:
            self._put(puts[0])
        else:
            self._transact(puts, idempotency_index=len(puts) - 1 if idempotency is not None else None)

    def _put(self, put: dict[str, Any]) -> None:
        try:
            self._client.put_item(**put)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                taken = _taken(cast(Any, error.response).get("Item"))
                raise ConcurrencyConflictError("the version is already taken", taken=taken) from error
            raise

    def _transact(self, puts: list[dict[str, Any]], *, idempotency_index: int | None) -> None:
        try:
            self._client.transact_write_items(TransactItems=cast(Any, [{"Put": put} for put in puts]))
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            cancellations = cast(Any, error.response).get("CancellationReasons", [])
            reasons = [r.get("Code", "None") for r in cancellations]
            if idempotency_index is not None and reasons[idempotency_index:][:1] == ["ConditionalCheckFailed"]:
                raise IdempotencyKeyInUseError("the idempotency key has a live record") from error
            if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                taken = _taken(cancellations[0].get("Item")) if cancellations else None
                raise ConcurrencyConflictError(f"append cancelled: {reasons}", taken=taken) from error
            raise

    # --- reads -------------------------------------------------------------------------------------------------

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        query: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": f"{PARTITION_KEY} = :id",
            "ExpressionAttributeValues": {":id": {"S": self._key(stream)}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": first_page,  # one by default: the newest item usually carries the state
        }
        if to_version is not None:
            query["KeyConditionExpression"] += f" AND {SORT_KEY} <= :top"
            query["ExpressionAttributeValues"][":top"] = {"N": snapshot_seq(to_version)}
        for item in self._query(query, next_limit=page_size):
            yield record_of_item(item)

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        events: list[EventRecord] = []
        query: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": f"{PARTITION_KEY} = :id AND {SORT_KEY} > :after",
            "ExpressionAttributeValues": {":id": {"S": self._key(stream)}, ":after": {"N": str(after)}},
            "ConsistentRead": True,
            "Limit": limit + 1,  # room for the snapshot a page of `limit` events may hold
        }
        for item in self._query(query):
            record = record_of_item(item)
            if isinstance(record, EventRecord):
                events.append(record)
                if len(events) == limit:
                    break
        return events

    def version_at(self, stream: StreamId, instant: str) -> int | None:
        response = self._client.query(
            TableName=self._events,
            IndexName=TIME_INDEX,
            KeyConditionExpression=f"{PARTITION_KEY} = :id AND {TIME_INDEX_KEY} < :bound",
            ExpressionAttributeValues={":id": {"S": self._key(stream)}, ":bound": {"S": instant + "$"}},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
        items = response.get("Items", [])
        return int(items[0][SORT_KEY]["N"]) if items else None

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        response = self._client.get_item(
            TableName=self._idempotency_table(), Key={IDEMPOTENCY_KEY: {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        record = idempotency_record(item)
        return record if record.expires_at >= now else None

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        request: dict[str, Any] = {
            "TableName": self._events,
            "FilterExpression": f"{SORT_KEY} = :first AND aggregate_type = :type",
            "ProjectionExpression": PARTITION_KEY,
            "ExpressionAttributeValues": {":first": {"N": "1"}, ":type": {"S": aggregate_type}},
        }
        while True:
            response = self._client.scan(**request)
            for item in response.get("Items", []):
                yield aggregate_id_of(str(item[PARTITION_KEY]["S"]), aggregate_type)
            if "LastEvaluatedKey" not in response:
                return
            request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    def _query(self, query: dict[str, Any], next_limit: int | None = None) -> Iterator[Mapping[str, Any]]:
        """Every item `query` selects, a page per call, the pages after the first of `next_limit` items."""
        while True:
            response = self._client.query(**query)
            yield from response.get("Items", [])
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return
            query = {**query, "ExclusiveStartKey": last_key, "Limit": next_limit or query["Limit"]}


# --- item shapes (shared with the local runtime's journal and the tests) --------------------------------------


def event_item(event: EventRecord, key: str) -> dict[str, Any]:
    """The item of an event whose stream key is `key` (`stream_key`, or `DynamoDBEventStore.item_of`)."""
    return {
        PARTITION_KEY: {"S": key},
        SORT_KEY: {"N": str(event.version)},
        "kind": {"S": EVENT},
        "aggregate_type": {"S": event.aggregate_type},
        "version": {"N": str(event.version)},
        "event_id": {"S": event.event_id},
        "event_type": {"S": event.event_type},
        "schema_version": {"N": str(event.schema_version)},
        "occurred_at": {"S": event.occurred_at},
        "data": {"M": to_item(event.data)},
        "metadata": {"M": to_item(event.metadata)},
        TIME_INDEX_KEY: {"S": time_index_key(event.occurred_at, event.version)},
    } | _state_attributes(event)


def _state_attributes(event: EventRecord) -> dict[str, Any]:
    if event.state is None or event.state_schema_version is None:
        return {}
    return {"state": {"M": to_item(event.state)}, "state_schema_version": {"N": str(event.state_schema_version)}}


def snapshot_item(snapshot: SnapshotRecord, key: str) -> dict[str, Any]:
    return {
        PARTITION_KEY: {"S": key},
        SORT_KEY: {"N": snapshot_seq(snapshot.version)},
        "kind": {"S": SNAPSHOT},
        "aggregate_type": {"S": snapshot.aggregate_type},
        "version": {"N": str(snapshot.version)},
        "schema_version": {"N": str(snapshot.schema_version)},
        "state": {"M": to_item(snapshot.state)},
        "taken_at": {"S": snapshot.taken_at},
    }


def _taken(item: Mapping[str, Any] | None) -> EventRecord | None:
    """The event a refused put found at its version (returned by ReturnValuesOnConditionCheckFailure), if any."""
    record = record_of_item(item) if item else None
    return record if isinstance(record, EventRecord) else None


def record_of_item(item: Mapping[str, Any]) -> StreamItem:
    """The event or snapshot an item of the event table holds (from a read or a stream record's image)."""
    values = from_item(item)
    aggregate_id = aggregate_id_of(values[PARTITION_KEY], values["aggregate_type"])
    if values.get("kind") == SNAPSHOT:
        return SnapshotRecord(
            aggregate_type=values["aggregate_type"],
            aggregate_id=aggregate_id,
            version=values["version"],
            schema_version=values["schema_version"],
            state=values["state"],
            taken_at=values["taken_at"],
        )
    return EventRecord(
        aggregate_type=values["aggregate_type"],
        aggregate_id=aggregate_id,
        version=values["version"],
        event_id=values["event_id"],
        event_type=values["event_type"],
        schema_version=values["schema_version"],
        occurred_at=values["occurred_at"],
        data=values["data"],
        metadata=values["metadata"],
        state=values.get("state"),
        state_schema_version=values.get("state_schema_version"),
    )


def idempotency_item(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        IDEMPOTENCY_KEY: {"S": record.key},
        "fingerprint": {"S": record.fingerprint},
        "aggregate_type": {"S": record.aggregate_type},
        "aggregate_id": {"S": record.aggregate_id},
        "version": {"N": str(record.version)},
        "created": {"BOOL": record.created},
        "state": {"M": to_item(record.state)},
        "state_schema_version": {"N": str(record.state_schema_version)},
        "recorded_at": {"S": record.recorded_at},
        EXPIRES_AT: {"N": str(record.expires_at)},
    }


def idempotency_record(item: Mapping[str, Any]) -> IdempotencyRecord:
    values = {key: from_attribute(value) for key, value in item.items()}
    return IdempotencyRecord(
        key=values[IDEMPOTENCY_KEY],
        fingerprint=values["fingerprint"],
        aggregate_type=values["aggregate_type"],
        aggregate_id=values["aggregate_id"],
        version=values["version"],
        created=values["created"],
        state=values["state"],
        state_schema_version=values["state_schema_version"],
        recorded_at=values["recorded_at"],
        expires_at=values["expires_at"],
    )
