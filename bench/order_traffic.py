"""The input of figure 8: a shop's traffic run as real commands through the order and stock services on moto (the
command function's composition root), in slices of event time, with the warehouse's dispatches and deliveries
between them; and what it adds up to, for checking what the consumers made of it.

The traffic (seeded, so every run sends the same customer commands): the catalog stocked, then orders of 1-3 lines
(distinct skus, 1-3 units each; one in ten in EUR) spread over about 20 minutes of event time, ending a few minutes
ago; most paid in full (one in four in two parts, half of those with two methods: a payment anomaly), some cancelled
before any payment, some after being paid in full (refunded), the rest left unpaid; now and then a large order
(over the order fraud threshold, paid in full) and a burst (one customer placing six orders 2 s apart: an order
velocity alert); restocks of four skus per slice (orders outrun the opening stock, so lines wait as backorders and are
filled oldest first). Ordinary customers never place two orders within a minute, so the only velocity alerts are
the bursts'.

Each slice of event time is followed by the pipeline (figure 8 runs it until no record is left), then by the
warehouse: it dispatches most of the shipments shipping requested for orders that the plan never cancels, and
delivers most of those it dispatched a slice before. Those choices depend on what the consumers did, so they are
recorded as the run goes (`dispatched`, `delivered`).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bench.traffic import PlanClock
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.domain.orders import CancelOrder, Line, PlaceOrder, ReceivePayment
from ledger.domain.sales import ProductSales, SalesFigures
from ledger.domain.shipments import DeliverShipment, DispatchShipment, Shipment
from ledger.domain.stock import Restock
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.reader import Reader
from ledger.kernel.service import CommandContext, CommandService
from local.shop import CATALOG  # the skus and prices `make shop` sells

LARGE_SKU: Final = "camera-pro"  # large orders only: 3 at 4,500.00, over the order fraud threshold (10,000.00)
LARGE_LINE: Final = Line(LARGE_SKU, 3, 450_000)
OPENING_STOCK: Final = 20
RESTOCK: Final = 30
RESTOCKS_PER_SLICE: Final = 4
DEFAULT_ORDERS: Final = 150
MIN_ORDERS: Final = 20
CUSTOMERS: Final = 300
MEAN_GAP_SECONDS: Final = 8.0  # between two orders
SLICE: Final = timedelta(minutes=5)  # of event time, between two runs of the pipeline
LARGE_SHARE: Final = 0.03
PAID_SHARE: Final = 0.72  # paid in full...
SPLIT_SHARE: Final = 0.25  # ... of which in two parts ...
TWO_METHODS_SHARE: Final = 0.5  # ... of which with two methods
CANCELLED_UNPAID_SHARE: Final = 0.08
CANCELLED_PAID_SHARE: Final = 0.06  # cancelled once paid in full: refunded
EUR_SHARE: Final = 0.1
BURST_LENGTH: Final = 6  # orders 2 s apart: the fifth completes a velocity window (5 within 60 s)
BURST_GAP: Final = timedelta(seconds=2)
DISPATCH_SHARE: Final = 0.7  # of the shipments ready at a slice's end
DELIVER_SHARE: Final = 0.6  # of those dispatched a slice before
_CONTEXT: Final = CommandContext(correlation_id="bench-shop", causation_id="bench-shop")


@dataclass(frozen=True)
class Planned:
    at: datetime
    aggregate: Aggregate[Any, Any, Any]
    command: Any


@dataclass
class PlannedOrder:
    order_id: str
    customer_id: str
    currency: str
    lines: tuple[Line, ...]
    placed_at: datetime
    payments: list[tuple[datetime, int, str]] = field(default_factory=list)  # (at, amount, method)
    cancelled_at: datetime | None = None
    large: bool = False

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines)

    @property
    def paid(self) -> int:
        return sum(amount for _, amount, _ in self.payments)

    @property
    def paid_in_full(self) -> bool:
        return self.paid == self.total

    @property
    def two_methods(self) -> bool:
        return len({method for _, _, method in self.payments}) > 1


@dataclass
class ShopTraffic:
    orders: list[PlannedOrder]
    received: dict[str, int]  # sku: units restocked over the run (the opening stock included)
    slices: list[list[Planned]]  # the commands, oldest first, in slices of event time
    bursts: int
    start: datetime
    dispatched: set[str] = field(default_factory=set)  # shipments the warehouse dispatched (their orders' ids)
    delivered: set[str] = field(default_factory=set)

    @property
    def commands(self) -> int:
        return sum(len(piece) for piece in self.slices)

    @property
    def kinds(self) -> Counter[str]:
        return Counter(type(p.command).__name__ for piece in self.slices for p in piece)

    def sales(self, currency: str) -> SalesFigures:
        """What the orders in `currency` add up to: placed, paid in full (their units and totals), payments,
        cancellations and refunds."""
        figures = SalesFigures()
        for order in self.orders:
            if order.currency != currency:
                continue
            full = order.paid_in_full
            figures += SalesFigures(
                orders_placed=1,
                orders_paid=int(full),
                revenue=order.paid,
                items_sold=sum(line.quantity for line in order.lines) if full else 0,
                paid_value=order.total if full else 0,
                cancelled=int(order.cancelled_at is not None),
                refunds=order.paid if order.cancelled_at is not None else 0,
            )
        return figures

    def products(self, currency: str) -> dict[str, ProductSales]:
        """Units and revenue per sku of the orders in `currency` paid in full."""
        sold: dict[str, ProductSales] = {}
        for order in self.orders:
            if order.currency == currency and order.paid_in_full:
                for line in order.lines:
                    seen = sold.get(line.sku, ProductSales(line.sku, 0, 0))
                    sold[line.sku] = ProductSales(
                        line.sku, seen.quantity + line.quantity, seen.revenue + line.quantity * line.unit_price
                    )
        return sold

    @property
    def currencies(self) -> list[str]:
        return sorted({order.currency for order in self.orders})


def plan(orders: int, *, seed: int = 8) -> ShopTraffic:
    """About `orders` orders (bursts and large orders included), their payments and cancellations, and restocks."""
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=MEAN_GAP_SECONDS * orders) - 3 * SLICE
    bursts = max(1, orders // 50)
    commands: list[Planned] = [Planned(start, STOCK, Restock(sku, OPENING_STOCK)) for sku in CATALOG]
    received = dict.fromkeys(CATALOG, OPENING_STOCK) | {LARGE_SKU: 0}
    last_order: dict[str, datetime] = {}
    planned: list[PlannedOrder] = []
    at = start + timedelta(seconds=1)
    burst_at = sorted(rng.sample(range(5, orders - BURST_LENGTH), bursts))
    while len(planned) < orders:
        at += timedelta(seconds=rng.expovariate(1 / MEAN_GAP_SECONDS))
        if burst_at and len(planned) >= burst_at[0]:
            burst_at.pop(0)
            customer = f"bot-{bursts - len(burst_at)}"
            planned += [
                PlannedOrder(f"o-{len(planned) + step:04d}", customer, "USD", (Line("sticker-pack", 1, 400),), moment)
                for step, moment in enumerate(at + BURST_GAP * step for step in range(BURST_LENGTH))
            ]
            at += BURST_GAP * BURST_LENGTH
            continue
        customer = _customer(rng, last_order, at)
        order_id = f"o-{len(planned):04d}"
        if rng.random() < LARGE_SHARE:
            order = PlannedOrder(order_id, customer, "USD", (LARGE_LINE,), at, large=True)
            received[LARGE_SKU] += LARGE_LINE.quantity
            commands.append(Planned(at - timedelta(seconds=1), STOCK, Restock(LARGE_SKU, LARGE_LINE.quantity)))
            order.payments.append((at + timedelta(seconds=rng.uniform(5, 60)), order.total, "card"))
        else:
            skus = rng.sample(sorted(CATALOG), rng.randint(1, 3))
            lines = tuple(Line(sku, rng.randint(1, 3), CATALOG[sku]) for sku in skus)
            currency = "EUR" if rng.random() < EUR_SHARE else "USD"
            order = PlannedOrder(order_id, customer, currency, lines, at)
            _fate(rng, order)
        planned.append(order)
    for order in planned:
        commands.append(
            Planned(order.placed_at, ORDER, PlaceOrder(order.order_id, order.customer_id, order.currency, order.lines))
        )
        for number, (paid_at, amount, method) in enumerate(order.payments):
            payment = ReceivePayment(order.order_id, f"{order.order_id}-p{number}", amount, method)
            commands.append(Planned(paid_at, ORDER, payment))
        if order.cancelled_at is not None:
            commands.append(Planned(order.cancelled_at, ORDER, CancelOrder(order.order_id)))
    commands.sort(key=lambda p: p.at)
    slices: list[list[Planned]] = []
    for planned_command in commands:
        number = int((planned_command.at - start) / SLICE)
        while len(slices) <= number:
            slices.append([])
        slices[number].append(planned_command)
    for number, piece in enumerate(slices):  # restocks at each slice's end
        end = start + SLICE * (number + 1) - timedelta(seconds=1)
        for sku in rng.sample(sorted(CATALOG), RESTOCKS_PER_SLICE):
            piece.append(Planned(end, STOCK, Restock(sku, RESTOCK)))
            received[sku] += RESTOCK
    return ShopTraffic(planned, received, [piece for piece in slices if piece], bursts, start)


def _customer(rng: random.Random, last_order: dict[str, datetime], at: datetime) -> str:
    """An ordinary customer whose previous order (if any) was over a minute ago: no velocity alert by chance."""
    while True:
        customer = f"c-{rng.randrange(CUSTOMERS):03d}"
        if at - last_order.get(customer, datetime.min.replace(tzinfo=UTC)) > timedelta(minutes=1):
            last_order[customer] = at
            return customer


def _fate(rng: random.Random, order: PlannedOrder) -> None:
    """Paid in full (in one or two parts), cancelled before any payment or once paid, or left unpaid."""
    roll = rng.random()
    at = order.placed_at
    if roll < CANCELLED_UNPAID_SHARE:
        order.cancelled_at = at + timedelta(seconds=rng.uniform(10, 200))
        return
    if roll >= CANCELLED_UNPAID_SHARE + PAID_SHARE + CANCELLED_PAID_SHARE:
        return  # left unpaid
    paid_at = at + timedelta(seconds=rng.uniform(5, 120))
    if order.total > 1 and rng.random() < SPLIT_SHARE:
        first = order.total // 2
        order.payments.append((paid_at, first, "card"))
        second = "paypal" if rng.random() < TWO_METHODS_SHARE else "card"
        paid_at += timedelta(seconds=rng.uniform(5, 60))
        order.payments.append((paid_at, order.total - first, second))
    else:
        order.payments.append((paid_at, order.total, rng.choice(("card", "card", "card", "paypal"))))
    if roll >= CANCELLED_UNPAID_SHARE + PAID_SHARE:
        order.cancelled_at = paid_at + timedelta(seconds=rng.uniform(10, 200))


# --- running it --------------------------------------------------------------------------------------------------


Services = dict[str, CommandService[Any, Any, Any]]


def run_slice(services: Services, piece: list[Planned]) -> None:
    """Send a slice's commands, each at its planned time (the services' clock)."""
    clock = PlanClock(piece[0].at)
    for service in services.values():
        service.clock = clock
    for planned in piece:
        clock.now = planned.at
        services[planned.aggregate.type].execute(planned.command, _CONTEXT)


def warehouse(
    traffic: ShopTraffic, services: Services, shipments_now: Reader[Shipment], rng: random.Random, now: datetime
) -> int:
    """Deliver most of the shipments dispatched before, then dispatch most of the ready ones (shipping requested
    them; `shipments_now` reads them) of the orders the plan never cancels; the commands sent."""
    shipments = services[SHIPMENT.type]
    clock = PlanClock(now)
    shipments.clock = clock
    sent = 0
    for order_id in sorted(traffic.dispatched - traffic.delivered):
        if rng.random() < DELIVER_SHARE:
            shipments.execute(DeliverShipment(order_id), _CONTEXT)
            traffic.delivered.add(order_id)
            sent += 1
    for order in _shippable(traffic, now):
        shipment = shipments_now.find(order.order_id)
        if shipment is not None and shipment.status == "requested" and rng.random() < DISPATCH_SHARE:
            shipments.execute(DispatchShipment(order.order_id), _CONTEXT)
            traffic.dispatched.add(order.order_id)
            sent += 1
    return sent


def _shippable(traffic: ShopTraffic, now: datetime) -> Iterator[PlannedOrder]:
    """Orders paid in full by `now`, never cancelled, not dispatched yet."""
    for order in traffic.orders:
        paid = order.paid_in_full and order.payments[-1][0] <= now
        if paid and order.cancelled_at is None and order.order_id not in traffic.dispatched:
            yield order
