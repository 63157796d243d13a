"""The order aggregate's rules, given/when/then, with no storage at all."""

from __future__ import annotations

import pytest

from ledger.domain.errors import InvalidCommandError
from ledger.domain.orders import (
    AddItem,
    BackorderCleared,
    CancelOrder,
    ClearBackorder,
    ItemAddedToOrder,
    ItemBackordered,
    Line,
    MarkDelivered,
    MarkShipped,
    Order,
    OrderCancelled,
    OrderDelivered,
    OrderEmptyError,
    OrderEvent,
    OrderNotFoundError,
    OrderNotOpenError,
    OrderPlaced,
    OrderShipped,
    OrderShippedError,
    OverpaymentError,
    PaymentReceived,
    PaymentRecordedError,
    PaymentRefunded,
    PlaceOrder,
    ReceivePayment,
    RecordBackorder,
    decide,
    evolve,
)

T0 = "2026-12-01T09:00:00.000Z"
PLACED = OrderPlaced("o-1", "cus-1", "USD")


def given(*events: OrderEvent) -> Order | None:
    state = None
    for version, event in enumerate(events, start=1):
        state = evolve(state, event, version, T0)
    return state


def item(line: int = 1, sku: str = "sku-a", quantity: int = 2, unit_price: int = 1_500) -> ItemAddedToOrder:
    return ItemAddedToOrder("o-1", line, sku, quantity, unit_price)


def payment(
    amount: int, paid: int, total: int = 3_000, payment_id: str = "p-1", method: str = "card"
) -> PaymentReceived:
    return PaymentReceived("o-1", payment_id, amount, "USD", method, paid, total, T0)


def test_placing_an_order_records_it_then_one_event_per_item() -> None:
    events = decide(None, PlaceOrder("o-1", "cus-1", "USD", (Line("sku-a", 2, 1_500), Line("sku-b", 1, 999))))
    assert events == [PLACED, item(1), ItemAddedToOrder("o-1", 2, "sku-b", 1, 999)]
    state = given(*events)
    assert state is not None
    assert (state.status, state.total, state.paid, len(state.items)) == ("placed", 3_999, 0, 2)


def test_the_same_sku_again_adds_a_line() -> None:
    state = given(PLACED, item(1))
    assert decide(state, AddItem("o-1", Line("sku-a", 1, 1_500))) == [item(2, quantity=1)]


@pytest.mark.parametrize(
    ("line", "field"),
    [(Line("sku-a", 0, 100), "quantity"), (Line("sku-a", 1, -1), "unit_price")],
)
def test_a_line_must_have_a_quantity_and_a_price(line: Line, field: str) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        decide(given(PLACED), AddItem("o-1", line))
    assert refused.value.field == field
    with pytest.raises(InvalidCommandError) as refused:
        decide(None, PlaceOrder("o-1", "cus-1", "USD", (line,)))
    assert refused.value.field == f"items[0].{field}"


def test_another_currency_than_the_orders_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match="is in USD, not EUR"):
        decide(given(PLACED), AddItem("o-1", Line("sku-a", 1, 100), currency="EUR"))
    with pytest.raises(InvalidCommandError, match="is in USD, not EUR"):
        decide(given(PLACED, item()), ReceivePayment("o-1", "p-1", 100, "card", currency="EUR"))
    with pytest.raises(InvalidCommandError):
        decide(None, PlaceOrder("o-1", "cus-1", "EURO"))


def test_partial_payments_add_up_and_the_last_one_makes_the_order_paid() -> None:
    state = given(PLACED, item())
    first = decide(state, ReceivePayment("o-1", "p-1", 1_000, "card"))
    assert first == [payment(1_000, paid=1_000)]
    state = given(PLACED, item(), *first)
    assert state is not None
    assert state.status == "placed"
    second = decide(state, ReceivePayment("o-1", "p-2", 2_000, "card"))
    assert second == [payment(2_000, paid=3_000, payment_id="p-2")]
    (completing,) = second
    assert isinstance(completing, PaymentReceived)
    assert completing.completes_payment
    paid = given(PLACED, item(), *first, *second)
    assert paid is not None
    assert (paid.status, paid.paid, paid.due) == ("paid", 3_000, 0)


def test_payment_refusals() -> None:
    with pytest.raises(OrderEmptyError):
        decide(given(PLACED), ReceivePayment("o-1", "p-1", 1, "card"))
    with pytest.raises(OverpaymentError, match=r"30\.00 USD due"):
        decide(given(PLACED, item()), ReceivePayment("o-1", "p-1", 3_001, "card"))
    with pytest.raises(PaymentRecordedError):
        decide(given(PLACED, item(), payment(1_000, 1_000)), ReceivePayment("o-1", "p-1", 1, "card"))
    with pytest.raises(OrderNotOpenError):
        decide(given(PLACED, item(), payment(3_000, 3_000)), ReceivePayment("o-1", "p-2", 1, "card"))
    with pytest.raises(OrderNotOpenError):
        decide(given(PLACED, item(), payment(3_000, 3_000)), AddItem("o-1", Line("sku-a", 1, 1)))
    with pytest.raises(InvalidCommandError):
        decide(given(PLACED, item()), ReceivePayment("o-1", "p-1", 0, "card"))


def test_cancelling_a_paid_order_records_the_refund() -> None:
    assert decide(given(PLACED, item()), CancelOrder("o-1")) == [OrderCancelled("o-1", "cus-1", "USD")]
    paid = given(PLACED, item(), payment(1_000, 1_000))
    events = decide(paid, CancelOrder("o-1"))
    assert events == [OrderCancelled("o-1", "cus-1", "USD"), PaymentRefunded("o-1", 1_000, "USD")]
    cancelled = given(PLACED, item(), payment(1_000, 1_000), *events)
    assert cancelled is not None
    assert (cancelled.status, cancelled.paid) == ("cancelled", 0)
    with pytest.raises(OrderNotOpenError, match="already cancelled"):
        decide(cancelled, CancelOrder("o-1"))


def test_shipping_and_delivery_follow_payment_and_end_cancellation() -> None:
    paid = (PLACED, item(), payment(3_000, 3_000))
    with pytest.raises(OrderNotOpenError):
        decide(given(PLACED, item()), MarkShipped("o-1", "o-1"))
    shipped = decide(given(*paid), MarkShipped("o-1", "o-1"))
    assert shipped == [OrderShipped("o-1", "o-1")]
    with pytest.raises(OrderShippedError):
        decide(given(*paid, *shipped), CancelOrder("o-1"))
    assert decide(given(*paid, *shipped), MarkDelivered("o-1", "o-1")) == [OrderDelivered("o-1", "o-1")]
    delivered = given(*paid, *shipped, OrderDelivered("o-1", "o-1"))
    assert delivered is not None
    assert delivered.status == "delivered"


def test_a_command_on_no_order_is_not_found() -> None:
    with pytest.raises(OrderNotFoundError):
        decide(None, CancelOrder("o-9"))


def test_inventory_reports_which_lines_wait_for_stock() -> None:
    state = given(PLACED, item(1, quantity=3), item(2, sku="sku-b", quantity=1))
    assert decide(state, RecordBackorder("o-1", 1, 2)) == [ItemBackordered("o-1", 1, 2)]
    waiting = given(PLACED, item(1, quantity=3), item(2, sku="sku-b", quantity=1), ItemBackordered("o-1", 1, 2))
    assert waiting is not None
    assert [i.backordered for i in waiting.items] == [2, 0]
    assert decide(waiting, RecordBackorder("o-1", 1, 5)) == [ItemBackordered("o-1", 1, 1)]  # never above the line
    assert decide(waiting, ClearBackorder("o-1", 1, 5)) == [BackorderCleared("o-1", 1, 2)]  # never below zero
    assert decide(waiting, ClearBackorder("o-1", 2, 1)) == []
    assert decide(waiting, RecordBackorder("o-1", 9, 1)) == []
    cancelled = given(PLACED, item(1, quantity=3), OrderCancelled("o-1", "cus-1", "USD"))
    assert decide(cancelled, RecordBackorder("o-1", 1, 1)) == []
