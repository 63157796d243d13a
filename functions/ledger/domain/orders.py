"""The order aggregate: placed with lines, paid (in parts), cancelled (refunded when paid), shipped and delivered.

`decide(state, command)` returns the events a command produces (or raises a DomainError, producing none);
`evolve(state, event, version, occurred_at)` folds one recorded event into the state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from ledger.domain.errors import Category, DomainError, InvalidCommandError
from ledger.domain.money import MAX_AMOUNT, format_minor_units, is_currency

OrderStatus = Literal["placed", "paid", "shipped", "delivered", "cancelled"]
MAX_QUANTITY: Final = 1_000_000
MAX_LINES: Final = 100  # lines per order: an order's state rides on each of its events (a DynamoDB item is <= 400 KB)

# --- Commands (imperative) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: int  # minor units of the order's currency


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    currency: str
    items: tuple[Line, ...] = ()


@dataclass(frozen=True)
class AddItem:
    order_id: str
    item: Line
    currency: str | None = None  # when given, it must be the order's


@dataclass(frozen=True)
class ReceivePayment:
    order_id: str
    payment_id: str
    amount: int
    method: str
    currency: str | None = None  # when given, it must be the order's


@dataclass(frozen=True)
class CancelOrder:
    order_id: str


@dataclass(frozen=True)
class RecordBackorder:
    """Inventory tells the order that `quantity` of a line waits for stock (a command from the inventory consumer)."""

    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class ClearBackorder:
    """Inventory tells the order that `quantity` of a line no longer waits (filled, or dropped)."""

    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class MarkShipped:
    """Shipping tells the order its shipment left (a command from the shipping consumer, never a client)."""

    order_id: str
    shipment_id: str


@dataclass(frozen=True)
class MarkDelivered:
    order_id: str
    shipment_id: str


OrderCommand = (
    PlaceOrder | AddItem | ReceivePayment | CancelOrder | RecordBackorder | ClearBackorder | MarkShipped | MarkDelivered
)

# --- Events (past tense, immutable) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPlaced:
    order_id: str
    customer_id: str
    currency: str


@dataclass(frozen=True)
class ItemAddedToOrder:
    order_id: str
    line: int  # 1, 2, 3...: the same sku again is another line
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class PaymentReceived:
    order_id: str
    payment_id: str
    amount: int
    currency: str
    method: str
    paid: int  # the order's paid amount after this payment
    total: int  # the order's total when it was paid
    placed_at: str  # when the order was placed (fraud: a payment long after placement)

    @property
    def completes_payment(self) -> bool:
        return self.paid == self.total


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    customer_id: str
    currency: str


@dataclass(frozen=True)
class PaymentRefunded:
    order_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class ItemBackordered:
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class BackorderCleared:
    order_id: str
    line: int
    quantity: int


@dataclass(frozen=True)
class OrderShipped:
    order_id: str
    shipment_id: str


@dataclass(frozen=True)
class OrderDelivered:
    order_id: str
    shipment_id: str


OrderEvent = (
    OrderPlaced
    | ItemAddedToOrder
    | PaymentReceived
    | OrderCancelled
    | PaymentRefunded
    | ItemBackordered
    | BackorderCleared
    | OrderShipped
    | OrderDelivered
)

# --- Refusals ----------------------------------------------------------------------------------------------------


class OrderNotFoundError(DomainError):
    code = "order_not_found"
    category = Category.NOT_FOUND


class OrderExistsError(DomainError):
    code = "order_exists"
    category = Category.CONFLICT


class OrderEmptyError(DomainError):
    code = "order_empty"
    category = Category.CONFLICT


class OverpaymentError(DomainError):
    code = "overpayment"
    category = Category.CONFLICT


class OrderNotOpenError(DomainError):
    code = "order_not_open"
    category = Category.CONFLICT


class OrderShippedError(DomainError):
    code = "order_shipped"
    category = Category.CONFLICT


class PaymentRecordedError(DomainError):
    """The payment id was already received on this order: a payment is taken once."""

    code = "payment_recorded"
    category = Category.CONFLICT


class OrderTooLargeError(DomainError):
    code = "order_too_large"
    category = Category.CONFLICT


# --- State -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    sku: str
    quantity: int
    unit_price: int
    backordered: int = 0  # how much of the line waits for stock (inventory tells the order)


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    currency: str
    status: OrderStatus
    items: tuple[OrderItem, ...]  # in line order: line N is items[N - 1]
    total: int
    paid: int
    version: int
    placed_at: str
    updated_at: str
    payment_ids: tuple[str, ...] = ()
    shipment_id: str | None = None

    @property
    def due(self) -> int:
        return self.total - self.paid


# --- Decisions ---------------------------------------------------------------------------------------------------


def decide(state: Order | None, command: OrderCommand) -> list[OrderEvent]:
    if isinstance(command, PlaceOrder):
        return _place(command)
    order = _require(state, command.order_id)
    if isinstance(command, AddItem):
        _check_currency(order, command.currency)
        _require_status(order, "placed", "Items can only be added to an order that is not yet paid.")
        return [_item(order.order_id, len(order.items) + 1, command.item, order)]
    if isinstance(command, ReceivePayment):
        return [_payment(order, command)]
    if isinstance(command, CancelOrder):
        return _cancel(order)
    if isinstance(command, RecordBackorder | ClearBackorder):
        return _backorder(order, command)
    return [_fulfilment(order, command)]


def _fulfilment(order: Order, command: MarkShipped | MarkDelivered) -> OrderEvent:
    if isinstance(command, MarkShipped):
        if order.status != "paid":
            raise OrderNotOpenError(f"Order {order.order_id!r} is {order.status}: only a paid order ships.")
        return OrderShipped(order.order_id, command.shipment_id)
    if order.status != "shipped":
        raise OrderNotOpenError(f"Order {order.order_id!r} is {order.status}: only a shipped order is delivered.")
    return OrderDelivered(order.order_id, command.shipment_id)


def _place(command: PlaceOrder) -> list[OrderEvent]:
    if not command.customer_id.strip():
        raise InvalidCommandError("The customer id must not be blank.", field="customer_id")
    if not is_currency(command.currency):
        raise InvalidCommandError(f"{command.currency!r} is not an ISO-4217 currency code.", field="currency")
    if len(command.items) > MAX_LINES:
        raise InvalidCommandError(f"An order holds at most {MAX_LINES} lines.", field="items")
    placed: list[OrderEvent] = [OrderPlaced(command.order_id, command.customer_id, command.currency)]
    total = 0
    for number, line in enumerate(command.items, start=1):
        _check_line(line, f"items[{number - 1}]")
        total += line.quantity * line.unit_price
        placed.append(ItemAddedToOrder(command.order_id, number, line.sku, line.quantity, line.unit_price))
    if total > MAX_AMOUNT:
        raise InvalidCommandError(f"An order's total must be at most {MAX_AMOUNT} minor units.", field="items")
    return placed


def _item(order_id: str, number: int, line: Line, order: Order) -> ItemAddedToOrder:
    _check_line(line, "")
    if number > MAX_LINES:
        raise OrderTooLargeError(f"Order {order_id!r} already holds {MAX_LINES} lines, the most an order can hold.")
    if order.total + line.quantity * line.unit_price > MAX_AMOUNT:
        raise OrderTooLargeError(f"Order {order_id!r} would total more than {MAX_AMOUNT} minor units.")
    return ItemAddedToOrder(order_id, number, line.sku, line.quantity, line.unit_price)


def _check_line(line: Line, prefix: str) -> None:
    where = f"{prefix}." if prefix else ""
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise InvalidCommandError(f"The quantity must be between 1 and {MAX_QUANTITY}.", field=f"{where}quantity")
    if not 0 <= line.unit_price <= MAX_AMOUNT:
        raise InvalidCommandError(
            f"The unit price must be between 0 and {MAX_AMOUNT} minor units.", field=f"{where}unit_price"
        )


def _payment(order: Order, command: ReceivePayment) -> PaymentReceived:
    if not 0 < command.amount <= MAX_AMOUNT:
        raise InvalidCommandError(f"The amount must be between 1 and {MAX_AMOUNT} minor units.", field="amount")
    _check_currency(order, command.currency)
    _require_status(order, "placed", "Payments are only taken on an order that is not yet paid.")
    if not order.items:
        raise OrderEmptyError(f"Order {order.order_id!r} has no items to pay for.")
    if command.payment_id in order.payment_ids:
        raise PaymentRecordedError(f"Payment {command.payment_id!r} was already received on this order.")
    if command.amount > order.due:
        raise OverpaymentError(
            f"Order {order.order_id!r} has {format_minor_units(order.due, order.currency)} due; "
            f"{format_minor_units(command.amount, order.currency)} is more."
        )
    return PaymentReceived(
        order.order_id,
        command.payment_id,
        command.amount,
        order.currency,
        command.method,
        order.paid + command.amount,
        order.total,
        order.placed_at,
    )


def _cancel(order: Order) -> list[OrderEvent]:
    if order.status in ("shipped", "delivered"):
        raise OrderShippedError(f"Order {order.order_id!r} has been shipped; it can no longer be cancelled.")
    _require_status(order, ("placed", "paid"), "It is already cancelled.")
    cancelled: list[OrderEvent] = [OrderCancelled(order.order_id, order.customer_id, order.currency)]
    if order.paid:
        cancelled.append(PaymentRefunded(order.order_id, order.paid, order.currency))
    return cancelled


def _backorder(order: Order, command: RecordBackorder | ClearBackorder) -> list[OrderEvent]:
    """What inventory reports about a line; nothing once the order is closed (cancelled or delivered), and never a
    waiting quantity below zero or above the line's."""
    if order.status in ("cancelled", "delivered") or not 1 <= command.line <= len(order.items):
        return []
    item = order.items[command.line - 1]
    if isinstance(command, RecordBackorder):
        quantity = min(command.quantity, item.quantity - item.backordered)
        return [ItemBackordered(order.order_id, command.line, quantity)] if quantity > 0 else []
    quantity = min(command.quantity, item.backordered)
    return [BackorderCleared(order.order_id, command.line, quantity)] if quantity > 0 else []


def _check_currency(order: Order, currency: str | None) -> None:
    if currency is not None and currency != order.currency:
        raise InvalidCommandError(f"Order {order.order_id!r} is in {order.currency}, not {currency}.", field="currency")


def _require(state: Order | None, order_id: str) -> Order:
    if state is None:
        raise OrderNotFoundError(f"Order {order_id!r} does not exist.")
    return state


def _require_status(order: Order, allowed: str | tuple[str, ...], why: str) -> None:
    if order.status not in ((allowed,) if isinstance(allowed, str) else allowed):
        raise OrderNotOpenError(f"Order {order.order_id!r} is {order.status}. {why}")


# --- Evolution ---------------------------------------------------------------------------------------------------


def evolve(state: Order | None, event: OrderEvent, version: int, occurred_at: str) -> Order:  # noqa: PLR0911 - one per event
    if isinstance(event, OrderPlaced):
        return Order(
            order_id=event.order_id,
            customer_id=event.customer_id,
            currency=event.currency,
            status="placed",
            items=(),
            total=0,
            paid=0,
            version=version,
            placed_at=occurred_at,
            updated_at=occurred_at,
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} at version {version} precedes OrderPlaced")
    state = replace(state, version=version, updated_at=occurred_at)
    if isinstance(event, ItemAddedToOrder):
        item = OrderItem(event.sku, event.quantity, event.unit_price)
        return replace(state, items=(*state.items, item), total=state.total + event.quantity * event.unit_price)
    if isinstance(event, PaymentReceived):
        paid = state.paid + event.amount
        status: OrderStatus = "paid" if paid == state.total else state.status
        return replace(state, paid=paid, status=status, payment_ids=(*state.payment_ids, event.payment_id))
    if isinstance(event, OrderCancelled):
        return replace(state, status="cancelled")
    if isinstance(event, PaymentRefunded):
        return replace(state, paid=state.paid - event.amount)
    if isinstance(event, ItemBackordered | BackorderCleared):
        change = event.quantity if isinstance(event, ItemBackordered) else -event.quantity
        item = state.items[event.line - 1]
        changed = replace(item, backordered=item.backordered + change)
        return replace(state, items=(*state.items[: event.line - 1], changed, *state.items[event.line :]))
    if isinstance(event, OrderShipped):
        return replace(state, status="shipped", shipment_id=event.shipment_id)
    return replace(state, status="delivered")
