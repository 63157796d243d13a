"""The customer aggregate's declaration: a customer's ordering activity (what the order velocity rule judges)."""

from __future__ import annotations

from typing import Final

from ledger.domain.customers import (
    Customer,
    CustomerEvent,
    CustomerExistsError,
    CustomerNotFoundError,
    OrderRecorded,
    OrderVelocityExceeded,
    RecordPlacement,
    decide,
    evolve,
)
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

CUSTOMER: Final = Aggregate[RecordPlacement, CustomerEvent, Customer](
    type="Customer",
    events=EventCodec(
        [EventType("OrderRecorded", OrderRecorded), EventType("OrderVelocityExceeded", OrderVelocityExceeded)]
    ),
    state=StateCodec(Customer, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.customer_id,
    creation=(),
    creation_or_change=(RecordPlacement,),  # a customer's first order brings its activity into being
    not_found=CustomerNotFoundError,
    already_exists=CustomerExistsError,
)
