"""Shipping: one shipment per paid order. A payment that completes an order requests its shipment (its id is the
order's, so however often the payment is delivered there is one); a cancelled order cancels its shipment while it has
not left; the warehouse's dispatch and delivery go back to the order, by command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.domain.orders import (
    MarkDelivered,
    MarkShipped,
    Order,
    OrderCancelled,
    OrderNotFoundError,
    OrderNotOpenError,
    PaymentReceived,
)
from ledger.domain.shipments import (
    CancelShipment,
    RequestShipment,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentExistsError,
    ShipmentLine,
    ShipmentNotFoundError,
    ShipmentNotReadyError,
)
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.reactions import Reaction

OrderLookup = Callable[[str], Order | None]


def shipping_reactions(event: RecordedEvent[Any], order_now: OrderLookup) -> list[Reaction]:
    happened = event.event
    if isinstance(happened, PaymentReceived) and happened.completes_payment:
        order = order_now(happened.order_id)
        if order is None or order.status != "paid":  # cancelled (or shipped) since: nothing to request
            return []
        request = RequestShipment(order.order_id, order.order_id, shipment_lines(order))
        return [Reaction(SHIPMENT, request, key="request", tolerated=(ShipmentExistsError,))]
    if isinstance(happened, OrderCancelled):
        # Not found: the order was never paid in full. Not ready: it left before the cancellation (see docs).
        cancel = CancelShipment(happened.order_id)
        return [Reaction(SHIPMENT, cancel, key="cancel", tolerated=(ShipmentNotFoundError, ShipmentNotReadyError))]
    if isinstance(happened, ShipmentDispatched):
        shipped = MarkShipped(happened.order_id, happened.shipment_id)
        return [Reaction(ORDER, shipped, key="shipped", tolerated=(OrderNotFoundError, OrderNotOpenError))]
    if isinstance(happened, ShipmentDelivered):
        delivered = MarkDelivered(happened.order_id, happened.shipment_id)
        return [Reaction(ORDER, delivered, key="delivered", tolerated=(OrderNotFoundError, OrderNotOpenError))]
    return []


def shipment_lines(order: Order) -> tuple[ShipmentLine, ...]:
    """The order's quantities per sku, in the order of their first line."""
    quantities: dict[str, int] = {}
    for item in order.items:
        quantities[item.sku] = quantities.get(item.sku, 0) + item.quantity
    return tuple(ShipmentLine(sku, quantity) for sku, quantity in quantities.items())
