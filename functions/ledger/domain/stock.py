"""The stock of one sku: received, reserved for order lines, backordered when short, shipped.

Invariants (checked by the tests after any mix of commands): received = on_hand + shipped; reserved = the sum of the
open reservations; backordered = the sum of the waiting backorders; on_hand never below reserved (nothing reserves
stock that is not there: what cannot be reserved waits as a backorder, filled oldest first as stock arrives or is
released).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from ledger.domain.errors import Category, DomainError, InvalidCommandError

MAX_RESTOCK: Final = 1_000_000_000

# --- Commands ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restock:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Reserve:
    """Reserve `quantity` for one order line; what is not available is backordered. A line already reserved or
    backordered is not reserved again (the same order line delivered twice)."""

    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class Release:
    """An order was cancelled: its reservations return to stock and its backorders are dropped."""

    sku: str
    order_id: str


@dataclass(frozen=True)
class ShipReservation:
    """An order left the warehouse: what was reserved for it leaves the stock; what it still waited for is dropped
    (it shipped without it)."""

    sku: str
    order_id: str


StockCommand = Restock | Reserve | Release | ShipReservation

# --- Events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockReceived:
    sku: str
    quantity: int


@dataclass(frozen=True)
class StockReserved:
    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class StockBackordered:
    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class BackorderFilled:
    """Stock arrived (or was released) for a waiting backorder: that much of it is now reserved."""

    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class ReservationReleased:
    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class BackorderDropped:
    sku: str
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class StockShipped:
    sku: str
    order_id: str
    line: int
    quantity: int


StockEvent = (
    StockReceived
    | StockReserved
    | StockBackordered
    | BackorderFilled
    | ReservationReleased
    | BackorderDropped
    | StockShipped
)

# --- Refusals ----------------------------------------------------------------------------------------------------


class StockNotFoundError(DomainError):
    code = "stock_not_found"
    category = Category.NOT_FOUND


class StockExistsError(DomainError):
    code = "stock_exists"
    category = Category.CONFLICT


# --- State -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class Stock:
    sku: str
    on_hand: int
    reserved: int
    backordered: int
    received: int
    shipped: int
    reservations: tuple[Allocation, ...]
    backorders: tuple[Allocation, ...]  # oldest first: the order they are filled in
    version: int
    updated_at: str

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def holds(self, order_id: str, line: int) -> bool:
        return any(a.order_id == order_id and a.line == line for a in (*self.reservations, *self.backorders))


def empty(sku: str) -> Stock:
    return Stock(sku, 0, 0, 0, 0, 0, (), (), 0, "")


# --- Decisions ---------------------------------------------------------------------------------------------------


def decide(state: Stock | None, command: StockCommand) -> list[StockEvent]:
    stock = state or empty(command.sku)
    if isinstance(command, Restock):
        if not 1 <= command.quantity <= MAX_RESTOCK:
            raise InvalidCommandError(f"The quantity must be between 1 and {MAX_RESTOCK}.", field="quantity")
        received = StockReceived(command.sku, command.quantity)
        return [received, *_fill_backorders(stock, arriving=command.quantity)]
    if isinstance(command, Reserve):
        return _reserve(stock, command)
    if isinstance(command, Release):
        released: list[StockEvent] = [
            ReservationReleased(stock.sku, a.order_id, a.line, a.quantity)
            for a in stock.reservations
            if a.order_id == command.order_id
        ]
        released += _drop_backorders(stock, command.order_id)
        return released + _fill_backorders(_without(stock, command.order_id), arriving=0)
    shipped: list[StockEvent] = [
        StockShipped(stock.sku, a.order_id, a.line, a.quantity)
        for a in stock.reservations
        if a.order_id == command.order_id
    ]
    return shipped + _drop_backorders(stock, command.order_id)


def _reserve(stock: Stock, command: Reserve) -> list[StockEvent]:
    if command.quantity < 1:
        raise InvalidCommandError("The quantity must be at least 1.", field="quantity")
    if stock.holds(command.order_id, command.line):
        return []
    reserved = min(command.quantity, max(stock.available, 0))
    if stock.backorders:  # those who waited first are served first: a new line does not jump the queue
        reserved = 0
    events: list[StockEvent] = []
    if reserved:
        events.append(StockReserved(stock.sku, command.order_id, command.line, reserved))
    if command.quantity > reserved:
        events.append(StockBackordered(stock.sku, command.order_id, command.line, command.quantity - reserved))
    return events


def _fill_backorders(stock: Stock, *, arriving: int) -> list[StockEvent]:
    """Fill waiting backorders, oldest first, from what is available once `arriving` more is on hand/unreserved."""
    available = stock.available + arriving
    filled: list[StockEvent] = []
    for backorder in stock.backorders:
        if available <= 0:
            break
        quantity = min(backorder.quantity, available)
        filled.append(BackorderFilled(stock.sku, backorder.order_id, backorder.line, quantity))
        available -= quantity
    return filled


def _drop_backorders(stock: Stock, order_id: str) -> list[StockEvent]:
    return [
        BackorderDropped(stock.sku, a.order_id, a.line, a.quantity) for a in stock.backorders if a.order_id == order_id
    ]


def _without(stock: Stock, order_id: str) -> Stock:
    """The stock with an order's reservations and backorders gone (what a release leaves)."""
    return replace(
        stock,
        reserved=stock.reserved - sum(a.quantity for a in stock.reservations if a.order_id == order_id),
        reservations=tuple(a for a in stock.reservations if a.order_id != order_id),
        backorders=tuple(a for a in stock.backorders if a.order_id != order_id),
    )


# --- Evolution ---------------------------------------------------------------------------------------------------


def evolve(state: Stock | None, event: StockEvent, version: int, occurred_at: str) -> Stock:  # noqa: PLR0911 - one per event
    stock = replace(state or empty(event.sku), version=version, updated_at=occurred_at)
    if isinstance(event, StockReceived):
        return replace(stock, on_hand=stock.on_hand + event.quantity, received=stock.received + event.quantity)
    allocation = Allocation(event.order_id, event.line, event.quantity)
    if isinstance(event, StockReserved):
        return replace(stock, reserved=stock.reserved + event.quantity, reservations=(*stock.reservations, allocation))
    if isinstance(event, StockBackordered):
        return replace(
            stock, backordered=stock.backordered + event.quantity, backorders=(*stock.backorders, allocation)
        )
    if isinstance(event, BackorderFilled):
        return replace(
            stock,
            reserved=stock.reserved + event.quantity,
            backordered=stock.backordered - event.quantity,
            reservations=_add(stock.reservations, allocation),
            backorders=_take(stock.backorders, allocation),
        )
    if isinstance(event, ReservationReleased):
        return replace(
            stock, reserved=stock.reserved - event.quantity, reservations=_take(stock.reservations, allocation)
        )
    if isinstance(event, BackorderDropped):
        return replace(
            stock, backordered=stock.backordered - event.quantity, backorders=_take(stock.backorders, allocation)
        )
    return replace(
        stock,
        on_hand=stock.on_hand - event.quantity,
        shipped=stock.shipped + event.quantity,
        reserved=stock.reserved - event.quantity,
        reservations=_take(stock.reservations, allocation),
    )


def _add(allocations: tuple[Allocation, ...], added: Allocation) -> tuple[Allocation, ...]:
    """`allocations` with `added`'s quantity on its line (a line partly reserved already, then filled)."""
    for index, existing in enumerate(allocations):
        if (existing.order_id, existing.line) == (added.order_id, added.line):
            grown = replace(existing, quantity=existing.quantity + added.quantity)
            return (*allocations[:index], grown, *allocations[index + 1 :])
    return (*allocations, added)


def _take(allocations: tuple[Allocation, ...], taken: Allocation) -> tuple[Allocation, ...]:
    """`allocations` with `taken`'s quantity off its line (the line gone when nothing of it is left)."""
    for index, existing in enumerate(allocations):
        if (existing.order_id, existing.line) == (taken.order_id, taken.line):
            rest = existing.quantity - taken.quantity
            kept = (replace(existing, quantity=rest),) if rest > 0 else ()
            return (*allocations[:index], *kept, *allocations[index + 1 :])
    return allocations
