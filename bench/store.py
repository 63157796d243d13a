"""The DynamoDB event store seen through a counter of the items a load actually uses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem


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
