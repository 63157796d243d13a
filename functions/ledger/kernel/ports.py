"""The interfaces the kernel needs from the outside world: the event store, a message bus, and state read models."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:  # annotations only: importing the ports costs a function nothing it does not use
    from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem

S = TypeVar("S")


class EventStore(Protocol):
    """An append-only store of event streams, one per aggregate, with snapshots and idempotency records.

    `append` is all-or-nothing: the events (versions following the stream's last one, with no gap), the optional
    snapshot and the optional idempotency record are stored together or not at all. It raises
    ConcurrencyConflictError when a version is already taken (with the event that holds the first of the versions,
    as `taken`, when the store can return it in the same call) and IdempotencyKeyInUseError when the key already
    has a live record (that one wins when both hold). Streams are identified by aggregate type and id together.
    """

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None: ...

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        """Events and snapshots from the newest (at or below `to_version`) back, a snapshot of version V coming
        just before event V. Reads lazily: `first_page` items first (one by default: the newest usually carries
        the state), then `page_size` items a call; stop iterating and no more is read."""
        ...

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        """Up to `limit` events with version > `after`, oldest first (snapshots are skipped); fewer only when no
        more follow."""
        ...

    def version_at(self, stream: StreamId, instant: str) -> int | None:
        """The version of the last event that occurred at or before `instant` (same format as occurred_at)."""
        ...

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        """The live (unexpired at epoch second `now`) record of `key`, if any."""
        ...

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        """Every aggregate of that type with at least one event, in no particular order (a full scan: for
        rebuilding read models, not for serving requests)."""
        ...


class StateViews(Protocol[S]):
    """A read model of one aggregate type's states: one row per aggregate, the newest version it was given."""

    def put_if_newer(self, aggregate_id: str, version: int, state: S) -> bool:
        """Store `state` unless the row already holds `version` or a later one; True when stored."""
        ...

    def replace(self, aggregate_id: str, version: int, state: S) -> None:
        """Store `state` whatever the row holds (a rebuild)."""
        ...

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[S], str | None]:
        """Up to `limit` rows and the cursor of the next page (None: no more). Raises ValueError for a bad cursor."""
        ...


class FeedViews(StateViews[S], Protocol[S]):
    """State views that also list their rows newest first (by a time the rows carry, e.g. when an order was placed)."""

    def newest(self, *, limit: int, cursor: str | None) -> tuple[list[S], str | None]:
        """Up to `limit` rows, newest first, and the cursor of the next page. ValueError for a bad cursor."""
        ...


class MessageBus(Protocol):
    """A partitioned stream (Kinesis): per-key order, at-least-once."""

    def put(self, stream: str, messages: Sequence[tuple[str, bytes]]) -> list[int]:
        """Put (partition key, data) messages in order; returns the indexes of those the stream refused."""
        ...
