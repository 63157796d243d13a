"""The interfaces application services need from the outside world."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports costs a function nothing it does not use
    from ledger.application.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamItem
    from ledger.domain.accounts import Account
    from ledger.domain.fraud import Alert
    from ledger.domain.reports import DailyTotals, ReportKey


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
        self, aggregate_id: str, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        """Events and snapshots from the newest (at or below `to_version`) back, a snapshot of version V coming
        just before event V. Reads lazily: `first_page` items first (one by default: the newest usually carries
        the state), then `page_size` items a call; stop iterating and no more is read."""
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

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        """Every aggregate of that type with at least one event, in no particular order (a full scan: for
        rebuilding read models, not for serving requests)."""
        ...


class AccountViews(Protocol):
    """The accounts read model: one row per account."""

    def put_if_newer(self, account: Account) -> bool:
        """Store `account` unless the row already holds its version or a later one; True when stored."""
        ...

    def replace(self, account: Account) -> None:
        """Store `account` whatever the row holds (a rebuild)."""
        ...

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
        """Up to `limit` rows and the cursor of the next page (None: no more). Raises ValueError for a bad cursor."""
        ...


class AlertViews(Protocol):
    """The alerts read model."""

    def put_if_absent(self, alert: Alert) -> bool:
        """Store `alert` unless its id is already there; True when stored."""
        ...

    def newest(self, *, account_id: str | None, limit: int) -> list[Alert]: ...

    def clear(self) -> int:
        """Remove every alert (a rebuild); returns how many."""
        ...


class ReportStore(Protocol):
    """Daily totals, each event counted once however often it is delivered."""

    def add(self, contributions: Sequence[tuple[str, ReportKey, DailyTotals]]) -> int:
        """Add each (event id, report, totals) whose event id was not added before; returns how many were new."""
        ...

    def totals(self, key: ReportKey) -> DailyTotals: ...

    def clear(self) -> int: ...


class MessageBus(Protocol):
    """A partitioned stream (Kinesis): per-key order, at-least-once."""

    def put(self, stream: str, messages: Sequence[tuple[str, bytes]]) -> list[int]:
        """Put (partition key, data) messages in order; returns the indexes of those the stream refused."""
        ...


class NotificationLog(Protocol):
    """Which alerts were notified: what keeps a redelivered alert from notifying twice."""

    def claim(self, alert_id: str, *, now: str) -> bool:
        """True when this alert still needs its notification (never claimed, or claimed but not sent)."""
        ...

    def mark_sent(self, alert_id: str, *, message_id: str, now: str) -> None: ...


class Notifier(Protocol):
    def publish(self, alert: Alert) -> str:
        """Send the notification of `alert`; returns the message id."""
        ...
