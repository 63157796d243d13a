"""Inventory: stock follows orders. An item added to an open order reserves its quantity on the sku (what is short
is backordered); a cancelled order releases what it holds; a shipped order takes what it holds off hand. Stock
events go back to the order: which of its lines wait for stock, and when they no longer do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.application.orders import ORDER
from ledger.application.stock import STOCK
from ledger.domain.orders import (
    ClearBackorder,
    ItemAddedToOrder,
    Order,
    OrderCancelled,
    OrderNotFoundError,
    OrderShipped,
    RecordBackorder,
)
from ledger.domain.stock import (
    BackorderDropped,
    BackorderFilled,
    Release,
    Reserve,
    ShipReservation,
    StockBackordered,
    StockNotFoundError,
)
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.reactions import Reaction

OrderLookup = Callable[[str], Order | None]  # an order's current state (None: no such order)
_OPEN = ("placed", "paid")


def inventory_reactions(event: RecordedEvent[Any], order_now: OrderLookup) -> list[Reaction]:
    """The commands inventory sends in answer to an order or stock event (none for the others)."""
    happened = event.event
    if isinstance(happened, StockBackordered | BackorderFilled | BackorderDropped):
        return [_to_order(happened)]
    if isinstance(happened, ItemAddedToOrder):
        order = order_now(happened.order_id)
        if order is None or order.status not in _OPEN:  # closed since: a redelivery must not reserve again
            return []
        reserve = Reserve(happened.sku, happened.order_id, happened.line, happened.quantity)
        return [Reaction(STOCK, reserve, key="reserve")]
    if isinstance(happened, OrderCancelled | OrderShipped):
        order = order_now(happened.order_id)
        skus = sorted({item.sku for item in order.items}) if order is not None else []
        if isinstance(happened, OrderCancelled):
            return [_on_sku(Release(sku, happened.order_id), f"release:{sku}") for sku in skus]
        return [_on_sku(ShipReservation(sku, happened.order_id), f"ship:{sku}") for sku in skus]
    return []


def _to_order(happened: StockBackordered | BackorderFilled | BackorderDropped) -> Reaction:
    """What the order hears of its line's stock: that part of it waits, or no longer does."""
    command: RecordBackorder | ClearBackorder
    if isinstance(happened, StockBackordered):
        command = RecordBackorder(happened.order_id, happened.line, happened.quantity)
    else:
        command = ClearBackorder(happened.order_id, happened.line, happened.quantity)
    return Reaction(ORDER, command, key="backorder", tolerated=(OrderNotFoundError,))


def _on_sku(command: Release | ShipReservation, key: str) -> Reaction:
    # A sku whose stock never existed holds nothing for the order: there is nothing to release or ship.
    return Reaction(STOCK, command, key=key, tolerated=(StockNotFoundError,))
