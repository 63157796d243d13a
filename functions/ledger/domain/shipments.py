"""The shipment of one paid order: requested by shipping, dispatched and delivered by the warehouse, or cancelled
with its order before it leaves. Its id is its order's id (ids are scoped by aggregate type), so an order has at
most one shipment however often shipping hears that it was paid."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ledger.domain.errors import Category, DomainError

ShipmentStatus = Literal["requested", "dispatched", "delivered", "cancelled"]

# --- Commands ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class RequestShipment:
    shipment_id: str
    order_id: str
    items: tuple[ShipmentLine, ...]


@dataclass(frozen=True)
class DispatchShipment:
    shipment_id: str


@dataclass(frozen=True)
class DeliverShipment:
    shipment_id: str


@dataclass(frozen=True)
class CancelShipment:
    shipment_id: str


ShipmentCommand = RequestShipment | DispatchShipment | DeliverShipment | CancelShipment

# --- Events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentRequested:
    shipment_id: str
    order_id: str
    items: tuple[ShipmentLine, ...]


@dataclass(frozen=True)
class ShipmentDispatched:
    shipment_id: str
    order_id: str


@dataclass(frozen=True)
class ShipmentDelivered:
    shipment_id: str
    order_id: str


@dataclass(frozen=True)
class ShipmentCancelled:
    shipment_id: str
    order_id: str


ShipmentEvent = ShipmentRequested | ShipmentDispatched | ShipmentDelivered | ShipmentCancelled

# --- Refusals ----------------------------------------------------------------------------------------------------


class ShipmentNotFoundError(DomainError):
    code = "shipment_not_found"
    category = Category.NOT_FOUND


class ShipmentExistsError(DomainError):
    code = "shipment_exists"
    category = Category.CONFLICT


class ShipmentNotReadyError(DomainError):
    """The shipment is not in the state the step needs (dispatch a requested one, deliver a dispatched one)."""

    code = "shipment_not_ready"
    category = Category.CONFLICT


# --- State -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipment:
    shipment_id: str
    order_id: str
    status: ShipmentStatus
    items: tuple[ShipmentLine, ...]
    version: int
    requested_at: str
    updated_at: str


# --- Decisions ---------------------------------------------------------------------------------------------------


def decide(state: Shipment | None, command: ShipmentCommand) -> list[ShipmentEvent]:
    if isinstance(command, RequestShipment):
        return [ShipmentRequested(command.shipment_id, command.order_id, command.items)]
    if state is None:
        raise ShipmentNotFoundError(f"Shipment {command.shipment_id!r} does not exist.")
    if isinstance(command, DispatchShipment):
        _require(state, "requested", "dispatched")
        return [ShipmentDispatched(state.shipment_id, state.order_id)]
    if isinstance(command, DeliverShipment):
        _require(state, "dispatched", "delivered")
        return [ShipmentDelivered(state.shipment_id, state.order_id)]
    if state.status == "cancelled":
        return []
    _require(state, "requested", "cancelled")
    return [ShipmentCancelled(state.shipment_id, state.order_id)]


def _require(shipment: Shipment, status: ShipmentStatus, step: str) -> None:
    if shipment.status != status:
        raise ShipmentNotReadyError(
            f"Shipment {shipment.shipment_id!r} is {shipment.status}: only a {status} shipment can be {step}."
        )


# --- Evolution ---------------------------------------------------------------------------------------------------


def evolve(state: Shipment | None, event: ShipmentEvent, version: int, occurred_at: str) -> Shipment:
    if isinstance(event, ShipmentRequested):
        return Shipment(event.shipment_id, event.order_id, "requested", event.items, version, occurred_at, occurred_at)
    if state is None:
        raise ValueError(f"{type(event).__name__} at version {version} precedes ShipmentRequested")
    status: ShipmentStatus
    if isinstance(event, ShipmentDispatched):
        status = "dispatched"
    elif isinstance(event, ShipmentDelivered):
        status = "delivered"
    else:
        status = "cancelled"
    return replace(state, status=status, version=version, updated_at=occurred_at)
