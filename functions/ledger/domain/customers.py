"""A customer's ordering activity: the orders they placed lately, and when those came too fast.

Order fraud tells the customer of each order placed (a command derived from the OrderPlaced event, so it is told
once however often the event is delivered). Orders reach it in any order (they travel on different shards), so a
new placement may complete a window that ends at a later one: the customer looks at every window of
`window_seconds` the new placement belongs to, and when one now holds `count` orders or more it records
OrderVelocityExceeded, once per burst (not again for a window within `window_seconds` of one already flagged). The
alert follows from that event. Judged on the customer's own stream, the rule is a fold of the event store like any
other: the same events give the same alerts, live or rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from ledger.domain.errors import Category, DomainError

KEPT: Final = 50  # placements a customer remembers (the newest by time): far more than any window needs


@dataclass(frozen=True)
class RecordPlacement:
    customer_id: str
    order_id: str
    placed_at: str
    event_id: str  # the OrderPlaced event's id
    count: int  # the rule's threshold and window, as configured when the placement is recorded
    window_seconds: int


@dataclass(frozen=True)
class OrderRecorded:
    customer_id: str
    order_id: str
    placed_at: str
    event_id: str


@dataclass(frozen=True)
class OrderVelocityExceeded:
    customer_id: str
    order_id: str  # the placement that made the window reach the threshold
    placed_at: str
    event_ids: tuple[str, ...]  # the OrderPlaced events in the window, oldest first
    window_seconds: int


CustomerEvent = OrderRecorded | OrderVelocityExceeded


class CustomerNotFoundError(DomainError):
    code = "customer_not_found"
    category = Category.NOT_FOUND


class CustomerExistsError(DomainError):
    code = "customer_exists"
    category = Category.CONFLICT


@dataclass(frozen=True)
class Placement:
    order_id: str
    placed_at: str
    event_id: str


@dataclass(frozen=True)
class Customer:
    customer_id: str
    placements: tuple[Placement, ...]  # the newest KEPT by time, oldest first
    orders: int  # every order recorded
    flagged: tuple[str, ...]  # the ends of the windows flagged (OrderVelocityExceeded.placed_at), the newest KEPT
    version: int
    updated_at: str


def decide(state: Customer | None, command: RecordPlacement) -> list[CustomerEvent]:
    known = state.placements if state is not None else ()
    if any(p.order_id == command.order_id for p in known):
        return []
    recorded = OrderRecorded(command.customer_id, command.order_id, command.placed_at, command.event_id)
    placements = sorted((*known, Placement(command.order_id, command.placed_at, command.event_id)), key=_by_time)
    span = timedelta(seconds=command.window_seconds)
    new_at = datetime.fromisoformat(command.placed_at)
    flagged = [datetime.fromisoformat(at) for at in (state.flagged if state is not None else ())]
    for end in placements:  # the windows the new placement belongs to end at it or after it, within the span
        end_at = datetime.fromisoformat(end.placed_at)
        if not new_at <= end_at < new_at + span:
            continue
        window = [p for p in placements if end_at - span < datetime.fromisoformat(p.placed_at) <= end_at]
        if len(window) < command.count:
            continue
        if any(abs(end_at - at) < span for at in flagged):
            return [recorded]  # this burst is flagged already
        exceeded = OrderVelocityExceeded(
            command.customer_id,
            end.order_id,
            end.placed_at,
            tuple(p.event_id for p in window),
            command.window_seconds,
        )
        return [recorded, exceeded]
    return [recorded]


def _by_time(placement: Placement) -> tuple[str, str]:
    return placement.placed_at, placement.order_id


def evolve(state: Customer | None, event: CustomerEvent, version: int, occurred_at: str) -> Customer:
    customer = state or Customer(event.customer_id, (), 0, (), 0, occurred_at)
    customer = replace(customer, version=version, updated_at=occurred_at)
    if isinstance(event, OrderVelocityExceeded):
        return replace(customer, flagged=(*customer.flagged, event.placed_at)[-KEPT:])
    placements = sorted(
        (*customer.placements, Placement(event.order_id, event.placed_at, event.event_id)), key=_by_time
    )
    return replace(customer, placements=tuple(placements[-KEPT:]), orders=customer.orders + 1)
