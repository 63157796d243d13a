"""Sales analytics from order events: per-minute figures and product sales per currency, each event counted once;
and the report the dashboard reads (minute or hour buckets over a time range, totals, top products)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledger.application.orders import ORDER
from ledger.application.ports import SalesStore
from ledger.domain.orders import Order, OrderEvent, PaymentReceived
from ledger.domain.sales import Contribution, ProductSales, SalesFigures, contribution, top_products
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.records import StreamId

PaidOrder = Callable[[str, int], Order]  # an order at a version (right after the payment that completed it)


@dataclass
class Analyst:
    store: SalesStore
    paid_order: PaidOrder

    def add(self, events: Iterable[RecordedEvent[Any]]) -> tuple[int, int]:
        """Add the events' contributions; (events counted now, events that move no figure or are no order's)."""
        contributions: list[tuple[str, Contribution]] = []
        skipped = 0
        seen: set[str] = set()
        for event in events:
            if event.event_id in seen:  # delivered twice within one batch (a producer's retry)
                continue
            seen.add(event.event_id)
            found = self._contribution(event)
            if found is None:
                skipped += 1
            else:
                contributions.append((event.event_id, found))
        return self.store.add(contributions), skipped

    def _contribution(self, event: RecordedEvent[Any]) -> Contribution | None:
        if event.record.aggregate_type != ORDER.type:
            return None
        happened: OrderEvent = event.event
        paid = None
        if isinstance(happened, PaymentReceived) and happened.completes_payment:
            paid = self.paid_order(event.aggregate_id, event.version)
        return contribution(happened, event.occurred_at, paid)


@dataclass
class SalesProjection:
    """The sales read model rebuilt from the order streams: each order's state is folded along its own events, so
    the lines sold are known without a read."""

    store: SalesStore

    @property
    def reads_events(self) -> bool:
        return True

    @property
    def partial_replay_days(self) -> int | None:
        return 0  # each order's state is folded from its first event

    @property
    def aggregate_types(self) -> frozenset[str]:
        return frozenset({ORDER.type})

    def reset(self) -> int:
        return self.store.clear()

    def replay(self, stream: StreamId) -> _SalesReplay:
        return _SalesReplay(self.store)

    def complete(self) -> int:
        return 0


@dataclass
class _SalesReplay:
    store: SalesStore
    state: Order | None = None
    counted: int = 0
    reads_events: bool = True

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        contributions = []
        for event in page:
            self.state = ORDER.evolve(self.state, event.event, event.version, event.occurred_at)
            found = contribution(event.event, event.occurred_at, self.state)
            if found is not None:
                contributions.append((event.event_id, found))
        self.counted += self.store.add(contributions)

    def finish(self) -> int:
        return self.counted


# --- the report ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: str  # ISO-8601 minute or hour, UTC
    figures: SalesFigures = field(default_factory=SalesFigures)


@dataclass(frozen=True)
class SalesReport:
    currency: str
    buckets: list[Bucket]
    totals: SalesFigures
    top_products: list[ProductSales]


def sales_report(
    store: SalesStore, currency: str, start: datetime, end: datetime, *, bucket: str, top: int = 5
) -> SalesReport:
    """The figures of [start, end) in `bucket`s ("minute" or "hour"), every bucket listed (zeros included)."""
    minutes = store.minutes(currency, _minute(start), _minute(end))
    hourly = bucket == "hour"
    sums: dict[str, SalesFigures] = {}
    for minute, figures in minutes:
        key = minute[:13] + ":00" if hourly else minute
        sums[key] = sums.get(key, SalesFigures()) + figures
    size = timedelta(hours=1) if hourly else timedelta(minutes=1)
    moment = start.replace(minute=0 if hourly else start.minute, second=0, microsecond=0)
    buckets: list[Bucket] = []
    while moment < end:
        key = _minute(moment)
        buckets.append(Bucket(key, sums.get(key, SalesFigures())))
        moment += size
    totals = sum((figures for _, figures in minutes), SalesFigures())
    return SalesReport(
        currency, buckets, totals, top_products(store.products(currency, _minute(start), _minute(end)), top)
    )


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")
