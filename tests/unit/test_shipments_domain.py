"""A shipment: requested once per paid order, dispatched, delivered; or cancelled with its order before it leaves."""

from __future__ import annotations

import pytest

from ledger.domain.shipments import (
    CancelShipment,
    DeliverShipment,
    DispatchShipment,
    RequestShipment,
    Shipment,
    ShipmentCancelled,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentEvent,
    ShipmentLine,
    ShipmentNotFoundError,
    ShipmentNotReadyError,
    ShipmentRequested,
    decide,
    evolve,
)

ITEMS = (ShipmentLine("sku-a", 2),)
REQUESTED = ShipmentRequested("o-1", "o-1", ITEMS)


def given(*events: ShipmentEvent) -> Shipment | None:
    state = None
    for version, event in enumerate(events, start=1):
        state = evolve(state, event, version, "2026-12-01T09:00:00.000Z")
    return state


def test_a_shipment_is_requested_dispatched_and_delivered() -> None:
    assert decide(None, RequestShipment("o-1", "o-1", ITEMS)) == [REQUESTED]
    assert decide(given(REQUESTED), DispatchShipment("o-1")) == [ShipmentDispatched("o-1", "o-1")]
    dispatched = (REQUESTED, ShipmentDispatched("o-1", "o-1"))
    assert decide(given(*dispatched), DeliverShipment("o-1")) == [ShipmentDelivered("o-1", "o-1")]
    delivered = given(*dispatched, ShipmentDelivered("o-1", "o-1"))
    assert delivered is not None
    assert (delivered.status, delivered.items) == ("delivered", ITEMS)


def test_steps_out_of_order_are_refused() -> None:
    with pytest.raises(ShipmentNotReadyError, match="only a dispatched shipment can be delivered"):
        decide(given(REQUESTED), DeliverShipment("o-1"))
    with pytest.raises(ShipmentNotReadyError, match="only a requested shipment can be dispatched"):
        decide(given(REQUESTED, ShipmentDispatched("o-1", "o-1")), DispatchShipment("o-1"))
    with pytest.raises(ShipmentNotFoundError):
        decide(None, DispatchShipment("o-9"))


def test_a_shipment_is_cancelled_once_and_only_before_it_leaves() -> None:
    assert decide(given(REQUESTED), CancelShipment("o-1")) == [ShipmentCancelled("o-1", "o-1")]
    assert decide(given(REQUESTED, ShipmentCancelled("o-1", "o-1")), CancelShipment("o-1")) == []
    with pytest.raises(ShipmentNotReadyError):
        decide(given(REQUESTED, ShipmentDispatched("o-1", "o-1")), CancelShipment("o-1"))
    with pytest.raises(ShipmentNotReadyError):
        decide(given(REQUESTED, ShipmentCancelled("o-1", "o-1")), DispatchShipment("o-1"))
