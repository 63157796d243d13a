"""The order aggregate's declaration: its stored shapes and its decider."""

from __future__ import annotations

from typing import Final

from ledger.domain.orders import (
    BackorderCleared,
    ItemAddedToOrder,
    ItemBackordered,
    Order,
    OrderCancelled,
    OrderCommand,
    OrderDelivered,
    OrderEvent,
    OrderExistsError,
    OrderNotFoundError,
    OrderPlaced,
    OrderShipped,
    PaymentReceived,
    PaymentRefunded,
    PlaceOrder,
    decide,
    evolve,
)
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

ORDER: Final = Aggregate[OrderCommand, OrderEvent, Order](
    type="Order",
    events=EventCodec(
        [
            EventType("OrderPlaced", OrderPlaced),
            EventType("ItemAddedToOrder", ItemAddedToOrder),
            EventType("PaymentReceived", PaymentReceived),
            EventType("OrderCancelled", OrderCancelled),
            EventType("PaymentRefunded", PaymentRefunded),
            EventType("ItemBackordered", ItemBackordered),
            EventType("BackorderCleared", BackorderCleared),
            EventType("OrderShipped", OrderShipped),
            EventType("OrderDelivered", OrderDelivered),
        ]
    ),
    state=StateCodec(Order, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.order_id,
    creation=(PlaceOrder,),
    not_found=OrderNotFoundError,
    already_exists=OrderExistsError,
)
