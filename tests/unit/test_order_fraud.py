"""Order fraud: large orders, a customer's order velocity, and payment anomalies (several methods, a late payment),
raised once each through the real handlers however often delivered, and the same again from a rebuild."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ledger import bootstrap
from ledger.adapters.memory_read_models import InMemoryAlertViews
from ledger.application.orders import ORDER
from ledger.components import ALERT_VIEWS
from ledger.domain.customers import Customer, CustomerEvent, OrderVelocityExceeded, RecordPlacement
from ledger.domain.customers import decide as decide_for_customer
from ledger.domain.customers import evolve as evolve_customer
from ledger.domain.order_fraud import (
    LARGE_ORDER,
    ORDER_VELOCITY,
    PAYMENT_ANOMALY,
    OrderFraudRules,
    Payment,
    payment_alerts,
    velocity_alert,
)
from ledger.domain.orders import Line, PlaceOrder, ReceivePayment
from ledger.kernel.components import Root
from ledger.rebuild import rebuild
from tests.unit.shop_support import Shop

RULES = OrderFraudRules(
    large_amount=1_000_000, velocity_count=5, velocity_window_seconds=60, late_payment_seconds=86_400
)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def payment(n: int, *, total: int = 5_000, method: str = "card", after: timedelta = timedelta(minutes=1)) -> Payment:
    return Payment(
        f"e-{n}",
        "o-1",
        "c-1",
        1_000,
        "USD",
        method,
        total,
        "2026-12-01T09:00:00.000Z",
        (T0 + after).isoformat().replace("+00:00", "Z"),
    )


def test_a_large_order_alerts_once_at_the_payment_that_sees_it_over_the_threshold() -> None:
    (alert,) = payment_alerts(payment(1, total=1_000_000), [], RULES)
    assert (alert.rule, alert.severity, alert.amount, alert.order_id, alert.account_id) == (
        LARGE_ORDER,
        "high",
        1_000_000,
        "o-1",
        None,
    )
    assert payment_alerts(payment(2, total=1_000_000), [payment(1, total=1_000_000)], RULES) == []
    assert payment_alerts(payment(1, total=999_999), [], RULES) == []


def test_several_methods_or_a_late_payment_are_anomalies_raised_once_each() -> None:
    card, wire = payment(1), payment(2, method="wire")
    (methods,) = payment_alerts(wire, [card], RULES)
    assert (methods.rule, methods.event_ids) == (PAYMENT_ANOMALY, ("e-2",))
    assert payment_alerts(payment(3, method="crypto"), [card, wire], RULES) == []  # that order is flagged already
    late = payment(4, after=timedelta(days=2))
    (stale,) = payment_alerts(late, [card], RULES)
    assert stale.severity == "low"
    assert stale.alert_id != methods.alert_id
    assert payment_alerts(payment(5, after=timedelta(days=3)), [card, late], RULES) == []


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def record(customer: Customer | None, seconds: int) -> tuple[Customer, list[CustomerEvent]]:
    command = RecordPlacement("c-1", f"o-{seconds}", at(seconds), f"e-{seconds}", 5, 60)
    events = decide_for_customer(customer, command)
    state = customer
    for event in events:
        state = evolve_customer(state, event, (state.version if state else 0) + 1, at(seconds))
    assert state is not None
    return state, events


def test_the_customer_decides_velocity_when_a_window_reaches_exactly_the_count_whatever_the_arrival_order() -> None:
    customer: Customer | None = None
    raised: list[OrderVelocityExceeded] = []
    for seconds in (0, 10, 20, 30, 40, 50, 55):
        customer, events = record(customer, seconds)
        raised += [e for e in events if isinstance(e, OrderVelocityExceeded)]
    (exceeded,) = raised
    assert (exceeded.order_id, exceeded.event_ids) == ("o-40", ("e-0", "e-10", "e-20", "e-30", "e-40"))
    assert record(customer, 40)[1] == []  # the same order told twice changes nothing

    late: Customer | None = None  # the same burst, the last order in time told first
    late_raised: list[OrderVelocityExceeded] = []
    for seconds in (55, 0, 10, 20, 30, 40):
        late, events = record(late, seconds)
        late_raised += [e for e in events if isinstance(e, OrderVelocityExceeded)]
    # One alert for the burst all the same: flagged when the fifth order arrived (o-30, completing the window that
    # ends at o-55), and not again when o-40 completed another window of the same burst.
    assert [(e.order_id, len(e.event_ids)) for e in late_raised] == [("o-55", 5)]

    spread: Customer | None = None
    for seconds in (0, 20, 40, 60, 80, 100):
        spread, events = record(spread, seconds)
        assert not any(isinstance(e, OrderVelocityExceeded) for e in events)  # never 5 within 60 s
    alert = velocity_alert(exceeded, "e-x")
    assert (alert.rule, alert.order_id, alert.customer_id, alert.account_id) == (ORDER_VELOCITY, "o-40", "c-1", None)
    assert velocity_alert(exceeded, "e-x") == alert  # named by the event: the same every time


@pytest.fixture(params=[1, 2], ids=["once", "twice"])
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    yield Shop(repeats=request.param)
    bootstrap.reset()


def test_order_alerts_flow_to_the_alerts_read_model_and_notify_once(shop: Shop) -> None:
    shop.run(ORDER, PlaceOrder("big", "c-9", "USD", (Line("sku-a", 10, 100_000),)), at=T0)
    shop.run(ORDER, ReceivePayment("big", "p-1", 500_000, "card"), at=T0 + timedelta(seconds=5))
    shop.run(ORDER, ReceivePayment("big", "p-2", 500_000, "wire"), at=T0 + timedelta(seconds=6))
    for n in range(6):
        shop.run(ORDER, PlaceOrder(f"fast-{n}", "c-1", "USD"), at=T0 + timedelta(seconds=10 * n))
    shop.settle()

    rules = {a.rule: a for a in shop.alert_views.newest(limit=20)}
    assert set(rules) == {LARGE_ORDER, PAYMENT_ANOMALY, ORDER_VELOCITY}
    assert (rules[LARGE_ORDER].order_id, rules[ORDER_VELOCITY].order_id) == ("big", "fast-4")
    assert [a.rule for a in shop.alert_views.newest(order_id="big", limit=10)] == [PAYMENT_ANOMALY, LARGE_ORDER]
    assert sorted(a.alert_id for a in shop.notifier.published) == sorted(a.alert_id for a in rules.values())

    rebuilt = InMemoryAlertViews()
    fresh = Root().provide(bootstrap.EVENT_STORE, shop.store).provide(ALERT_VIEWS, rebuilt)
    assert rebuild(["alerts"], fresh) == {"alerts": 3}
    assert shop.events("Customer", "c-1").count("OrderVelocityExceeded") == 1
    assert rebuilt.alerts == shop.alert_views.alerts


@pytest.mark.parametrize("burst", [(0, 10, 20, 30, 40, 50), (0, 8, 16, 24, 32, 40, 48)])
def test_a_burst_raises_one_alert_in_whatever_order_its_orders_arrive(burst: tuple[int, ...]) -> None:
    for arrival in itertools.permutations(burst):
        customer: Customer | None = None
        raised = 0
        for seconds in arrival:
            customer, events = record(customer, seconds)
            raised += sum(isinstance(e, OrderVelocityExceeded) for e in events)
        assert raised == 1, arrival
