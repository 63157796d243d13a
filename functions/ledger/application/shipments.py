"""The shipment aggregate's declaration: its stored shapes and its decider."""

from __future__ import annotations

from typing import Final

from ledger.domain.shipments import (
    RequestShipment,
    Shipment,
    ShipmentCancelled,
    ShipmentCommand,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentEvent,
    ShipmentExistsError,
    ShipmentNotFoundError,
    ShipmentRequested,
    decide,
    evolve,
)
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

SHIPMENT: Final = Aggregate[ShipmentCommand, ShipmentEvent, Shipment](
    type="Shipment",
    events=EventCodec(
        [
            EventType("ShipmentRequested", ShipmentRequested),
            EventType("ShipmentDispatched", ShipmentDispatched),
            EventType("ShipmentDelivered", ShipmentDelivered),
            EventType("ShipmentCancelled", ShipmentCancelled),
        ]
    ),
    state=StateCodec(Shipment, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.shipment_id,
    creation=(RequestShipment,),
    not_found=ShipmentNotFoundError,
    already_exists=ShipmentExistsError,
)
