"""The interfaces the ledger's stream consumers need from the outside world (the kernel's are in kernel/ports.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports costs a function nothing it does not use
    from ledger.domain.fraud import Alert
    from ledger.domain.reports import DailyTotals, ReportKey
    from ledger.domain.sales import Contribution, ProductSales, SalesFigures


class AlertViews(Protocol):
    """The alerts read model."""

    def put_if_absent(self, alert: Alert) -> bool:
        """Store `alert` unless its id is already there; True when stored."""
        ...

    def newest(
        self, *, account_id: str | None = None, order_id: str | None = None, limit: int, before: str | None = None
    ) -> list[Alert]:
        """Up to `limit` alerts newest first (by `feed_position`): all, an account's, or an order's; with `before` (the
        feed position of the last alert of a page), only the ones after it in that order (the next page)."""
        ...

    def clear(self) -> int:
        """Remove every alert (a rebuild); returns how many."""
        ...


def feed_position(alert: Alert) -> str:
    """Where an alert stands in the alert views' order (newest first: the greatest position first): its time, then
    its id, so that alerts of the same millisecond keep one order."""
    return f"{alert.raised_at}#{alert.alert_id}"


# How long a store that counts each event once (reports, sales) remembers an event it counted: a redelivery is
# retried for a day at most and an on-failure queue keeps it 14; a replay from further back would count it again.
COUNTED_EVENTS_DAYS: Final = 30


class ReportStore(Protocol):
    """Daily totals, each event counted once however often it is delivered."""

    def add(self, contributions: Sequence[tuple[str, ReportKey, DailyTotals]]) -> int:
        """Add each (event id, report, totals) whose event id was not added before; returns how many were new."""
        ...

    def totals(self, key: ReportKey) -> DailyTotals: ...

    def clear(self) -> int: ...


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


class SalesStore(Protocol):
    """Sales per minute and currency (and per product), each event counted once however often it is delivered."""

    def add(self, contributions: Sequence[tuple[str, Contribution]]) -> int:
        """Add each (event id, contribution) whose event was not added before; how many events were new."""
        ...

    def minutes(self, currency: str, start: str, end: str) -> list[tuple[str, SalesFigures]]:
        """The figures of each minute in [start, end) that has any, oldest first (minutes as 2026-12-01T09:30)."""
        ...

    def products(self, currency: str, start: str, end: str) -> list[ProductSales]:
        """Product sales in [start, end): one entry per product and minute."""
        ...

    def clear(self) -> int: ...
