"""The stock aggregate's declaration (one per sku): its stored shapes and its decider. The first restock or
reservation of a sku brings its stock into being."""

from __future__ import annotations

from typing import Final

from ledger.domain.stock import (
    BackorderDropped,
    BackorderFilled,
    ReservationReleased,
    Reserve,
    Restock,
    Stock,
    StockBackordered,
    StockCommand,
    StockEvent,
    StockExistsError,
    StockNotFoundError,
    StockReceived,
    StockReserved,
    StockShipped,
    decide,
    evolve,
)
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

STOCK: Final = Aggregate[StockCommand, StockEvent, Stock](
    type="Stock",
    events=EventCodec(
        [
            EventType("StockReceived", StockReceived),
            EventType("StockReserved", StockReserved),
            EventType("StockBackordered", StockBackordered),
            EventType("BackorderFilled", BackorderFilled),
            EventType("ReservationReleased", ReservationReleased),
            EventType("BackorderDropped", BackorderDropped),
            EventType("StockShipped", StockShipped),
        ]
    ),
    state=StateCodec(Stock, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.sku,
    creation=(),
    creation_or_change=(Restock, Reserve),
    not_found=StockNotFoundError,
    already_exists=StockExistsError,
)
