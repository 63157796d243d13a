"""Sales figures per minute and currency, from order events: sums that commute, so each event can be added on its
own, in any order, as long as it is added exactly once. Revenue is what was paid (minor units of one currency);
the average order value is the total of the orders paid in full over their number."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ledger.domain.orders import Order, OrderCancelled, OrderEvent, OrderPlaced, PaymentReceived, PaymentRefunded


@dataclass(frozen=True)
class SalesFigures:
    orders_placed: int = 0
    orders_paid: int = 0
    revenue: int = 0  # payments received
    items_sold: int = 0  # units on the orders paid in full
    paid_value: int = 0  # the totals of the orders paid in full (for the average order value)
    cancelled: int = 0
    refunds: int = 0  # refunded amounts

    @property
    def average_order_value(self) -> int:
        return self.paid_value // self.orders_paid if self.orders_paid else 0

    def __add__(self, other: SalesFigures) -> SalesFigures:
        return SalesFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class ProductSales:
    sku: str
    quantity: int
    revenue: int


@dataclass(frozen=True)
class Contribution:
    """What one order event adds: to the figures of its minute, in its currency, and to its products' sales."""

    currency: str
    minute: str  # the event's UTC minute, e.g. 2026-12-01T09:30
    figures: SalesFigures
    products: tuple[ProductSales, ...] = ()


def contribution(event: OrderEvent, occurred_at: str, paid_order: Order | None = None) -> Contribution | None:
    """What `event` (recorded at `occurred_at`) adds to the sales figures; None for an event that moves none.
    `paid_order` is the order right after a payment that completed it (its lines are what was sold)."""
    minute = occurred_at[:16]
    if isinstance(event, OrderPlaced):
        return Contribution(event.currency, minute, SalesFigures(orders_placed=1))
    if isinstance(event, PaymentReceived):
        figures = SalesFigures(revenue=event.amount)
        if not event.completes_payment or paid_order is None:
            return Contribution(event.currency, minute, figures)
        products = _products(paid_order)
        sold = SalesFigures(orders_paid=1, items_sold=sum(p.quantity for p in products), paid_value=event.total)
        return Contribution(event.currency, minute, figures + sold, products)
    if isinstance(event, OrderCancelled):
        return Contribution(event.currency, minute, SalesFigures(cancelled=1))
    if isinstance(event, PaymentRefunded):
        return Contribution(event.currency, minute, SalesFigures(refunds=event.amount))
    return None


def _products(order: Order) -> tuple[ProductSales, ...]:
    by_sku: dict[str, ProductSales] = {}
    for item in order.items:
        sold = by_sku.get(item.sku, ProductSales(item.sku, 0, 0))
        by_sku[item.sku] = ProductSales(
            item.sku, sold.quantity + item.quantity, sold.revenue + item.quantity * item.unit_price
        )
    return tuple(by_sku.values())


def top_products(sales: list[ProductSales], limit: int) -> list[ProductSales]:
    """The best sellers by quantity, then revenue, then sku (so equal ones keep a stable order)."""
    totals: dict[str, ProductSales] = {}
    for sale in sales:
        seen = totals.get(sale.sku, ProductSales(sale.sku, 0, 0))
        totals[sale.sku] = ProductSales(sale.sku, seen.quantity + sale.quantity, seen.revenue + sale.revenue)
    return sorted(totals.values(), key=lambda p: (-p.quantity, -p.revenue, p.sku))[:limit]
