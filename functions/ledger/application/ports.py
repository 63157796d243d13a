"""The interfaces application services need from the outside world."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ledger.application.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamItem


class EventStore(Protocol):
    """An append-only store of event streams, one per aggregate, with snapshots and idempotency records.

    `append` is all-or-nothing: the events (versions following the stream's last one, with no gap), the optional
    snapshot and the optional idempotency record are stored together or not at all. It raises
    ConcurrencyConflictError when a version is already taken and IdempotencyKeyInUseError when the key already has
    a live record (that one wins when both hold).
    """

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None: ...

    def read_backward(
        self, aggregate_id: str, *, to_version: int | None = None, page_size: int = 100
    ) -> Iterator[StreamItem]:
        """Events and snapshots from the newest (at or below `to_version`) back, a snapshot of version V coming
        just before event V. Reads lazily: one item first (the newest usually carries the state), then
        `page_size` items a call; stop iterating and no more is read."""
        ...

    def read_forward(self, aggregate_id: str, *, after: int, limit: int) -> list[EventRecord]:
        """Up to `limit` events with version > `after`, oldest first (snapshots are skipped)."""
        ...

    def version_at(self, aggregate_id: str, instant: str) -> int | None:
        """The version of the last event that occurred at or before `instant` (same format as occurred_at)."""
        ...

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        """The live (unexpired at epoch second `now`) record of `key`, if any."""
        ...
