"""In-memory read models, notification log, bus and notifier: the same contracts as the AWS adapters, for unit
tests and in-process tools."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ledger.application.ports import feed_position
from ledger.domain.fraud import Alert
from ledger.domain.reports import DailyTotals, ReportKey
from ledger.domain.sales import Contribution, ProductSales, SalesFigures

S = TypeVar("S")


class InMemoryStateViews(Generic[S]):
    def __init__(self, feed_instant: Callable[[S], str] | None = None) -> None:
        self.rows: dict[str, tuple[int, S]] = {}
        self._lock = threading.Lock()
        self._feed_instant = feed_instant

    def put_if_newer(self, aggregate_id: str, version: int, state: S) -> bool:
        with self._lock:
            current = self.rows.get(aggregate_id)
            if current is not None and current[0] >= version:
                return False
            self.rows[aggregate_id] = (version, state)
            return True

    def replace(self, aggregate_id: str, version: int, state: S) -> None:
        with self._lock:
            self.rows[aggregate_id] = (version, state)

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[S], str | None]:
        with self._lock:
            ids = sorted(self.rows)
            if cursor is not None and not cursor.startswith("after:"):
                raise ValueError("not a cursor this API gave out")
            start = ids.index(cursor[6:]) + 1 if cursor and cursor[6:] in ids else 0
            chosen = ids[start : start + limit]
            more = start + limit < len(ids)
            return [self.rows[i][1] for i in chosen], (f"after:{chosen[-1]}" if more and chosen else None)

    def newest(self, *, limit: int, cursor: str | None) -> tuple[list[S], str | None]:
        if self._feed_instant is None:
            raise TypeError("these views keep no feed")
        instant = self._feed_instant
        with self._lock:
            keyed = sorted(((f"{instant(s)}#{i}", s) for i, (_, s) in self.rows.items()), key=lambda r: r[0])[::-1]
        if cursor is not None and not cursor.startswith("before:"):
            raise ValueError("not a cursor this API gave out")
        chosen = [row for row in keyed if cursor is None or row[0] < cursor[7:]][:limit]
        more = len(chosen) == limit and any(row[0] < chosen[-1][0] for row in keyed)
        return [state for _, state in chosen], (f"before:{chosen[-1][0]}" if more else None)

    def state(self, aggregate_id: str) -> S | None:
        row = self.rows.get(aggregate_id)
        return row[1] if row else None


class InMemoryAlertViews:
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}

    def put_if_absent(self, alert: Alert) -> bool:
        if alert.alert_id in self.alerts:
            return False
        self.alerts[alert.alert_id] = alert
        return True

    def newest(
        self, *, account_id: str | None = None, order_id: str | None = None, limit: int, before: str | None = None
    ) -> list[Alert]:
        chosen = [
            a
            for a in self.alerts.values()
            if (account_id is None or a.account_id == account_id)
            and (order_id is None or a.order_id == order_id)
            and (before is None or feed_position(a) < before)
        ]
        return sorted(chosen, key=feed_position, reverse=True)[:limit]

    def clear(self) -> int:
        count = len(self.alerts)
        self.alerts.clear()
        return count


class InMemoryReportStore:
    def __init__(self) -> None:
        self.reports: dict[ReportKey, DailyTotals] = {}
        self.applied: set[str] = set()

    def add(self, contributions: Sequence[tuple[str, ReportKey, DailyTotals]]) -> int:
        new_events: set[str] = set()
        added: set[tuple[str, ReportKey]] = set()
        for event_id, key, totals in contributions:
            if (event_id in self.applied and event_id not in new_events) or (event_id, key) in added:
                continue
            new_events.add(event_id)
            added.add((event_id, key))
            self.reports[key] = self.reports.get(key, DailyTotals()) + totals
        self.applied |= new_events
        return len(new_events)

    def totals(self, key: ReportKey) -> DailyTotals:
        return self.reports.get(key, DailyTotals())

    def clear(self) -> int:
        count = len(self.reports) + len(self.applied)
        self.reports.clear()
        self.applied.clear()
        return count


class InMemoryNotificationLog:
    def __init__(self) -> None:
        self.sent: dict[str, str] = {}
        self.claimed: set[str] = set()

    def claim(self, alert_id: str, *, now: str) -> bool:
        if alert_id in self.sent:
            return False
        self.claimed.add(alert_id)
        return True

    def mark_sent(self, alert_id: str, *, message_id: str, now: str) -> None:
        self.sent[alert_id] = message_id


@dataclass
class InMemoryBus:
    """Keeps what was put per stream; `refuse` lists indexes of the next put to refuse (a throttled put)."""

    streams: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    refuse: set[int] = field(default_factory=set)

    def put(self, stream: str, messages: Sequence[tuple[str, bytes]]) -> list[int]:
        refused, self.refuse = sorted(i for i in self.refuse if i < len(messages)), set()
        kept = [m for i, m in enumerate(messages) if i not in refused]
        self.streams.setdefault(stream, []).extend(kept)
        return refused


@dataclass
class RecordingNotifier:
    published: list[Alert] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def publish(self, alert: Alert) -> str:
        self.published.append(alert)
        return f"message-{next(self._ids)}"


class InMemorySalesStore:
    def __init__(self) -> None:
        self.minutes_: dict[tuple[str, str], SalesFigures] = {}
        self.products_: dict[tuple[str, str, str], ProductSales] = {}
        self.applied: set[str] = set()

    def add(self, contributions: Sequence[tuple[str, Contribution]]) -> int:
        new = 0
        for event_id, c in contributions:  # like the DynamoDB store: an event adds once, even listed twice
            if event_id in self.applied:
                continue
            self.applied.add(event_id)
            new += 1
            self.minutes_[(c.currency, c.minute)] = (
                self.minutes_.get((c.currency, c.minute), SalesFigures()) + c.figures
            )
            for p in c.products:
                seen = self.products_.get((c.currency, c.minute, p.sku), ProductSales(p.sku, 0, 0))
                self.products_[(c.currency, c.minute, p.sku)] = ProductSales(
                    p.sku, seen.quantity + p.quantity, seen.revenue + p.revenue
                )
        return new

    def minutes(self, currency: str, start: str, end: str) -> list[tuple[str, SalesFigures]]:
        return sorted((m, f) for (cur, m), f in self.minutes_.items() if cur == currency and start <= m < end)

    def products(self, currency: str, start: str, end: str) -> list[ProductSales]:
        return [p for (cur, m, _), p in sorted(self.products_.items()) if cur == currency and start <= m < end]

    def clear(self) -> int:
        count = len(self.minutes_) + len(self.products_) + len(self.applied)
        self.minutes_.clear()
        self.products_.clear()
        self.applied.clear()
        return count
