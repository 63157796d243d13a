"""What figure 8's consumers made of the shop's traffic: the judged row's check that the order side's pipeline did its
job, so the figure's rates are not those of a broken run. Everything is read back through the services' readers and
the read models, and compared with what the plan's commands (and the warehouse's) imply."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.effects import Check
from bench.order_traffic import ShopTraffic
from bench.report import count
from ledger.adapters.dynamodb_sales import DynamoDBSalesStore
from ledger.domain.order_fraud import LARGE_ORDER, ORDER_VELOCITY, PAYMENT_ANOMALY
from ledger.domain.orders import Order
from ledger.domain.sales import ProductSales, SalesFigures
from ledger.domain.shipments import Shipment
from ledger.domain.stock import Stock
from ledger.kernel.reader import Reader

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Readers:
    orders: Reader[Order]
    stock: Reader[Stock]
    shipments: Reader[Shipment]


def check(
    shop: ShopTraffic,
    readers: Readers,
    sales: DynamoDBSalesStore,
    *,
    alerts: list[bytes],
    fulfilment: list[bytes],
    problems: list[str],
) -> Check:
    """Whether stock, orders, shipments, sales and alerts are what the commands imply once the pipeline is quiet
    (`alerts`, `fulfilment`: every message on those streams; `problems`: what the caller already found wrong)."""
    problems = list(problems)
    orders = {o.order_id: readers.orders.find(o.order_id) for o in shop.orders}
    stock = {sku: readers.stock.find(sku) for sku in shop.received}
    problems += _orders(shop, orders)
    problems += _stock(shop, orders, stock)
    shipments, requested = _shipments(shop, readers, fulfilment, problems)
    problems += _sales(shop, sales)
    rules = _alerts(shop, alerts, problems)
    if problems:
        return Check(False, "; ".join(problems[:6]) + (f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""))
    statuses = Counter(order.status for order in orders.values() if order is not None)
    return Check(
        True,
        f"no failed record; {count(len(orders), 'order')} as the commands left them ("
        + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        + f"); {count(len(stock), 'sku')}: received = on hand + shipped, reserved = the open orders' reservations, "
        f"backorders as the orders' lines say, none waiting while stock is free; {requested} shipments requested, "
        f"one per order paid in full ({shipments}); sales of {len(shop.currencies)} currencies = the sums over the "
        f"orders; alerts {', '.join(f'{n} {rule}' for rule, n in sorted(rules.items()))} as the orders imply",
    )


def expected_status(shop: ShopTraffic, order_id: str, cancelled: bool, paid_in_full: bool) -> str:
    if cancelled:
        return "cancelled"
    if order_id in shop.delivered:
        return "delivered"
    if order_id in shop.dispatched:
        return "shipped"
    return "paid" if paid_in_full else "placed"


def _orders(shop: ShopTraffic, orders: dict[str, Order | None]) -> list[str]:
    wrong = []
    for planned in shop.orders:
        order = orders[planned.order_id]
        status = expected_status(shop, planned.order_id, planned.cancelled_at is not None, planned.paid_in_full)
        if order is None or order.status != status or order.paid != (0 if status == "cancelled" else planned.paid):
            wrong.append(planned.order_id)
    return [f"{len(wrong)} orders not as the commands left them, e.g. {wrong[0]}"] if wrong else []


def _stock(shop: ShopTraffic, orders: dict[str, Order | None], stock: dict[str, Stock | None]) -> list[str]:
    """The stock invariants (docs/orders.md), per sku; and each open order's lines wait for what the stock says."""
    problems: list[str] = []
    waiting: dict[tuple[str, int], int] = {}  # (order, line) -> backordered, as the stock sees it
    for sku, level in stock.items():
        if level is None:
            problems.append(f"no stock for {sku}")
            continue
        holders = {a.order_id for a in (*level.reservations, *level.backorders)}
        closed = [o for o in holders if orders.get(o) is None or orders[o].status not in ("placed", "paid")]  # type: ignore[union-attr]
        broken = [
            (level.received != shop.received[sku], f"received {level.received}, restocked {shop.received[sku]}"),
            (level.received != level.on_hand + level.shipped, "received != on hand + shipped"),
            (level.reserved != sum(a.quantity for a in level.reservations), "reserved != its reservations"),
            (level.backordered != sum(a.quantity for a in level.backorders), "backordered != its backorders"),
            (level.reserved > level.on_hand, "reserved more than on hand"),
            (bool(level.backorders) and level.available > 0, "backorders wait while stock is free"),
            (bool(closed), f"held for {len(closed)} orders no longer open"),
        ]
        problems += [f"{sku}: {what}" for failed, what in broken if failed]
        for allocation in level.backorders:
            waiting[allocation.order_id, allocation.line] = allocation.quantity
    told = [
        order.order_id
        for order in orders.values()
        if order is not None
        and order.status in ("placed", "paid")
        and any(item.backordered != waiting.get((order.order_id, line), 0) for line, item in enumerate(order.items, 1))
    ]
    if told:
        problems.append(f"{len(told)} open orders' backordered lines differ from the stock's backorders")
    return problems


def _shipments(shop: ShopTraffic, readers: Readers, fulfilment: list[bytes], problems: list[str]) -> tuple[str, int]:
    """One shipment per order paid in full (cancelled with its order), none for the others, each requested once."""
    requested = Counter(
        message["aggregate_id"] for message in map(json.loads, fulfilment) if message["type"] == "ShipmentRequested"
    )
    states: Counter[str] = Counter()
    wrong = []
    for planned in shop.orders:
        shipment = readers.shipments.find(planned.order_id)
        states[shipment.status if shipment is not None else "none"] += 1
        cancelled = planned.cancelled_at is not None
        if not planned.paid_in_full:
            right = shipment is None
        elif cancelled:
            right = shipment is None or shipment.status == "cancelled"
        else:
            status = expected_status(shop, planned.order_id, cancelled, True)
            right = shipment is not None and shipment.status == {"paid": "requested", "shipped": "dispatched"}.get(
                status, status
            )
        if not right:
            wrong.append(planned.order_id)
    if wrong:
        problems.append(f"{len(wrong)} orders' shipments not as their payments imply, e.g. {wrong[0]}")
    twice = [shipment for shipment, n in requested.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} shipments requested more than once")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if state != "none")
    return summary, sum(requested.values())


def _sales(shop: ShopTraffic, sales: DynamoDBSalesStore) -> list[str]:
    """Per currency, over the whole run: the totals and each sku's sales equal the sums over the plan's orders."""
    start = _minute(shop.start - timedelta(minutes=1))
    end = _minute(datetime.now(UTC) + timedelta(hours=1))
    problems = []
    for currency in shop.currencies:
        totals = sum((figures for _, figures in sales.minutes(currency, start, end)), SalesFigures())
        sold: dict[str, ProductSales] = {}
        for product in sales.products(currency, start, end):
            seen = sold.get(product.sku, ProductSales(product.sku, 0, 0))
            sold[product.sku] = replace(
                seen, quantity=seen.quantity + product.quantity, revenue=seen.revenue + product.revenue
            )
        if totals != shop.sales(currency):
            problems.append(f"{currency} sales {totals} != {shop.sales(currency)}")
        if sold != shop.products(currency):
            problems.append(f"{currency} product sales differ from the orders paid in full")
    return problems


def _alerts(shop: ShopTraffic, alerts: list[bytes], problems: list[str]) -> Counter[str]:
    bodies: list[dict[str, Any]] = [json.loads(alert) for alert in alerts]
    order_alerts = [body for body in bodies if body.get("order_id")]
    rules = Counter(body["rule"] for body in order_alerts)
    expected = Counter(
        {
            LARGE_ORDER: sum(1 for o in shop.orders if o.large and o.payments),
            PAYMENT_ANOMALY: sum(1 for o in shop.orders if o.two_methods),
            ORDER_VELOCITY: shop.bursts,
        }
    )
    if rules != expected:
        problems.append(f"order alerts {dict(rules)} != {dict(expected)}")
    if len({body["alert_id"] for body in order_alerts}) != len(order_alerts):
        problems.append("an order alert was raised twice")
    return rules


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")
