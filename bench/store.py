"""The DynamoDB event store seen through a counter of the items a load actually uses; and the event table as one
Scan found it, for checks that read many aggregates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.adapters.dynamodb_event_store import PARTITION_KEY, SORT_KEY, record_of_item, stream_key
from ledger.catalog import AGGREGATES
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.ports import EventStore
from ledger.kernel.reader import Reader
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem
from ledger.kernel.repository import Repository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

S = TypeVar("S")


class CountingStore:
    """Delegates every call; counts the items the service draws from `read_backward`. The load stops at the first
    item with a state it can decode (usually the newest event): items a Query returned past it were read, not used."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.items_used = 0

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        self.inner.append(events, snapshot=snapshot, idempotency=idempotency)

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        for item in self.inner.read_backward(stream, to_version=to_version, page_size=page_size, first_page=first_page):
            self.items_used += 1
            yield item

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        return self.inner.read_forward(stream, after=after, limit=limit)

    def version_at(self, stream: StreamId, instant: str) -> int | None:
        return self.inner.version_at(stream, instant)

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        return self.inner.idempotency_record(key, now=now)

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        return self.inner.aggregate_ids(aggregate_type)


class TableSnapshot:
    """The event table as one Scan found it, read as an event store (reads backward only), so that the services' own
    loads (`reader`) can read hundreds of aggregates at once: moto's Query sorts the whole table on every call."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        streams: dict[str, list[tuple[float, StreamItem]]] = {}
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            response = client.scan(**request)
            for item in response.get("Items", []):
                found: dict[str, Any] = dict(item)
                seq = float(found[SORT_KEY]["N"])
                streams.setdefault(found[PARTITION_KEY]["S"], []).append((seq, record_of_item(found)))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        self._streams = {
            key: [record for _, record in sorted(items, key=lambda pair: pair[0])] for key, items in streams.items()
        }

    def reader(self, aggregate: Aggregate[Any, Any, S]) -> Reader[S]:
        return Reader(Repository(aggregate, self, page_size=100))

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        for record in reversed(self._streams.get(stream_key(stream, AGGREGATES.bare_stream_key_types), [])):
            if to_version is None or record.version <= to_version:
                yield record

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        raise NotImplementedError("a table snapshot is read-only")

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        raise NotImplementedError

    def version_at(self, stream: StreamId, instant: str) -> int | None:
        raise NotImplementedError

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        raise NotImplementedError

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        raise NotImplementedError


def _seq(pair: tuple[float, StreamItem]) -> float:
    return pair[0]
