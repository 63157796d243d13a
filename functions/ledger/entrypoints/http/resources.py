"""Each aggregate's state as the API shows it (the bodies schemas.py and order_schemas.py document), and where a new
one lives. A state's internal bookkeeping (an order's payment ids, a stock's allocations) stays out of its body."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final

from ledger.application.accounts import ACCOUNT
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.domain.accounts import Account
from ledger.domain.orders import Order
from ledger.domain.shipments import Shipment
from ledger.domain.stock import Stock
from ledger.entrypoints.http.aggregate_routes import StateResource


def account_body(account: Account) -> dict[str, Any]:
    return asdict(account)


def order_body(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "status": order.status,
        "items": [
            {"sku": item.sku, "quantity": item.quantity, "unit_price": item.unit_price, "backordered": item.backordered}
            for item in order.items
        ],
        "total": order.total,
        "paid": order.paid,
        "version": order.version,
        "placed_at": order.placed_at,
        "updated_at": order.updated_at,
        "shipment_id": order.shipment_id,
    }


def stock_body(stock: Stock) -> dict[str, Any]:
    return {
        "sku": stock.sku,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "available": stock.available,
        "backordered": stock.backordered,
        "version": stock.version,
    }


def shipment_body(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": shipment.shipment_id,
        "order_id": shipment.order_id,
        "status": shipment.status,
        "items": [{"sku": line.sku, "quantity": line.quantity} for line in shipment.items],
        "version": shipment.version,
        "requested_at": shipment.requested_at,
        "updated_at": shipment.updated_at,
    }


ACCOUNT_RESOURCE: Final = StateResource(ACCOUNT, account_body, lambda account: f"/accounts/{account.account_id}")
ORDER_RESOURCE: Final = StateResource(ORDER, order_body, lambda order: f"/orders/{order.order_id}")
# The first restock of a sku brings its stock into being, as any later one changes it: 200 either way.
STOCK_RESOURCE: Final = StateResource(STOCK, stock_body)
SHIPMENT_RESOURCE: Final = StateResource(
    SHIPMENT, shipment_body, lambda shipment: f"/orders/{shipment.order_id}/shipment"
)
