"""The order side under chaos: with every chaos switch on (batches delivered twice, invocations failing before or
midway through their batch, batches shuffled), a shop's traffic (local/shop.py: orders placed, paid in parts and with
several methods, cancelled, dispatched and delivered, restocks, a large order and a burst of orders) converges: once
the pipeline is quiet,

- every read model (orders, stock, sales, alerts) equals a fold of the event store, read from the runtime's moto;
- the stock invariants hold for every sku: received = on hand + shipped, and what is reserved is exactly what the
  open, unshipped orders hold;
- every order paid in full has exactly one shipment requested, and no other order has one;
- the sales figures equal the sums over the events;
- no alert exists twice, and each was notified exactly once."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.adapters.dynamodb_event_store import record_of_item
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryAlertViews
from ledger.application.orders import ORDER
from ledger.application.pipeline.fraud_detection import AlertsProjection
from ledger.application.stock import STOCK
from ledger.catalog import AGGREGATES
from ledger.domain.orders import Order, PaymentReceived
from ledger.domain.sales import SalesFigures, contribution
from ledger.domain.stock import Stock
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.projections import rebuild
from ledger.kernel.records import EventRecord
from local.shop import Api, Shop
from tests.e2e.client import ApiClient
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import Notifications, assert_a_replay_from_the_archive_rebuilds_every_read_model_as_it_is
from tests.e2e.support import local_only
from tests.ledger_fixtures import FRAUD_RULES, ORDER_FRAUD_RULES

pytestmark = local_only

SEED = 20261201
CHAOS_FLAGS = (
    f"--chaos-seed={SEED}",
    "--chaos-duplicate=0.35",
    "--chaos-fail-before=0.2",
    "--chaos-fail-midway=0.25",
    "--chaos-shuffle=0.5",
)
VISITS = 60


@dataclass
class OrdersRun:
    runtime: LocalRuntime
    api: ApiClient
    history: dict[tuple[str, str], list[RecordedEvent[Any]]]  # by (aggregate type, id), oldest first
    notifications: Notifications
    started: datetime


@pytest.fixture(scope="module")
def orders_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrdersRun]:
    data_dir: Path = tmp_path_factory.mktemp("orders-chaos") / "data"
    with LocalRuntime(data_dir, reset=True, args=CHAOS_FLAGS) as runtime:
        started = datetime.now(UTC)
        shop = Shop(Api(runtime.base_url))
        shop.open_the_shop()
        shop.large_order()
        shop.burst()
        seeds = random.Random(SEED)
        with ThreadPoolExecutor(4) as pool:
            visits = [pool.submit(shop.visit, random.Random(seeds.random())) for _ in range(VISITS)]
            for visit in visits:
                visit.result()
        for _ in range(3):  # let shipping request the last shipments, then dispatch and deliver what it can
            runtime.wait_until_quiet(timeout=180)
            for _ in range(10):
                shop.warehouse()
        runtime.wait_until_quiet(timeout=180)
        yield OrdersRun(runtime, runtime.client(), _history(runtime), Notifications(runtime), started)


def _history(runtime: LocalRuntime) -> dict[tuple[str, str], list[RecordedEvent[Any]]]:
    """Every event of the runtime's event table, decoded and grouped by stream, oldest first."""
    dynamodb = runtime.aws("dynamodb")
    request: dict[str, Any] = {"TableName": "ledger-events"}
    records: list[EventRecord] = []
    while True:
        page = dynamodb.scan(**request)
        records += [r for r in map(record_of_item, page["Items"]) if isinstance(r, EventRecord)]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    history: dict[tuple[str, str], list[RecordedEvent[Any]]] = {}
    for record in sorted(records, key=lambda r: (r.aggregate_type, r.aggregate_id, r.version)):
        event = AGGREGATES.decode(record)
        assert event is not None, record
        history.setdefault((record.aggregate_type, record.aggregate_id), []).append(event)
    return history


def fold(events: list[RecordedEvent[Any]], evolve: Any) -> Any:
    state = None
    for event in events:
        state = evolve(state, event.event, event.version, event.occurred_at)
    return state


def orders(run: OrdersRun) -> dict[str, Order]:
    return {key[1]: fold(events, ORDER.evolve) for key, events in run.history.items() if key[0] == "Order"}


def stock(run: OrdersRun) -> dict[str, Stock]:
    return {key[1]: fold(events, STOCK.evolve) for key, events in run.history.items() if key[0] == "Stock"}


def listed(api: ApiClient, path: str, field: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = api.get(f"{path}?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status == 200, response.body
        rows += response.json[field]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return rows


def test_chaos_was_on_and_the_order_consumers_saw_redeliveries(orders_run: OrdersRun) -> None:
    mappings = {m["mapping"]: m for m in orders_run.runtime.status()["mappings"]}
    for consumer in ("inventory <- orders", "shipping <- orders", "analytics <- orders", "order-fraud <- orders"):
        assert mappings[consumer]["delivered"] > mappings[consumer]["done"] > 0, mappings[consumer]
    assert sum(sum(m["chaos"].values()) for m in mappings.values()) > 0


def test_the_orders_and_stock_read_models_equal_the_fold_of_the_event_store(orders_run: OrdersRun) -> None:
    folded_orders, folded_stock = orders(orders_run), stock(orders_run)
    rows = {row["order_id"]: row for row in listed(orders_run.api, "/orders", "orders")}
    assert set(rows) == set(folded_orders)
    for order_id, order in folded_orders.items():
        assert rows[order_id]["version"] == order.version
        assert (rows[order_id]["status"], rows[order_id]["paid"], rows[order_id]["total"]) == (
            order.status,
            order.paid,
            order.total,
        )
        assert [i["backordered"] for i in rows[order_id]["items"]] == [i.backordered for i in order.items]
    skus = {row["sku"]: row for row in listed(orders_run.api, "/inventory", "stock")}
    assert set(skus) == set(folded_stock)
    for sku, state in folded_stock.items():
        row = skus[sku]
        assert (row["on_hand"], row["reserved"], row["backordered"], row["version"]) == (
            state.on_hand,
            state.reserved,
            state.backordered,
            state.version,
        )


def test_the_stock_invariants_hold_for_every_sku(orders_run: OrdersRun) -> None:
    folded_orders = orders(orders_run)
    open_unshipped = {o.order_id for o in folded_orders.values() if o.status in ("placed", "paid")}
    for sku, state in stock(orders_run).items():
        assert state.received == state.on_hand + state.shipped, sku
        assert state.reserved == sum(a.quantity for a in state.reservations if a.order_id in open_unshipped), sku
        assert all(a.order_id in open_unshipped for a in (*state.reservations, *state.backorders)), sku
        assert 0 <= state.reserved <= state.on_hand, sku


def test_every_order_paid_in_full_has_exactly_one_shipment(orders_run: OrdersRun) -> None:
    folded_orders = orders(orders_run)
    shipments = {key[1]: events for key, events in orders_run.history.items() if key[0] == "Shipment"}
    paid_in_full = {
        key[1]
        for key, events in orders_run.history.items()
        if key[0] == "Order" and any(isinstance(e.event, PaymentReceived) and e.event.completes_payment for e in events)
    }
    assert paid_in_full
    for order_id, events in shipments.items():
        assert order_id in paid_in_full
        assert [e.record.event_type for e in events].count("ShipmentRequested") == 1
    for order_id in paid_in_full:
        if folded_orders[order_id].status != "cancelled":
            assert order_id in shipments, order_id
    assert any(o.status in ("shipped", "delivered") for o in folded_orders.values())


def test_the_sales_figures_equal_the_sums_over_the_events(orders_run: OrdersRun) -> None:
    expected = SalesFigures()
    for key, events in orders_run.history.items():
        if key[0] != "Order":
            continue
        state = None
        for event in events:
            state = ORDER.evolve(state, event.event, event.version, event.occurred_at)
            found = contribution(event.event, event.occurred_at, state)
            if found is not None and found.currency == "USD":
                expected += found.figures
    start = orders_run.started - timedelta(minutes=1)
    end = datetime.now(UTC) + timedelta(minutes=1)
    response = orders_run.api.get(
        f"/analytics/sales?bucket=minute&from={start:%Y-%m-%dT%H:%M:00Z}&to={end:%Y-%m-%dT%H:%M:00Z}"
    )
    assert response.status == 200, response.body
    totals = response.json["totals"]
    assert (totals["orders_placed"], totals["orders_paid"], totals["revenue"], totals["items_sold"]) == (
        expected.orders_placed,
        expected.orders_paid,
        expected.revenue,
        expected.items_sold,
    )
    assert (totals["cancelled"], totals["refunds"]) == (expected.cancelled, expected.refunds)


def test_no_alert_twice_each_notified_once_and_all_as_a_fold_raises_them(orders_run: OrdersRun) -> None:
    alerts = orders_run.api.get("/alerts?limit=100").json["alerts"]
    ids = [alert["alert_id"] for alert in alerts]
    assert len(ids) == len(set(ids))
    assert {"large_order", "order_velocity"} <= {alert["rule"] for alert in alerts}
    time.sleep(1)
    notified = [alert["alert_id"] for alert in orders_run.notifications.read()]
    assert len(notified) == len(set(notified)), "an alert was notified twice"
    assert set(notified) == set(ids)

    store = InMemoryEventStore()
    for events in orders_run.history.values():
        for event in events:
            store.put_raw_event(event.record)
    views = InMemoryAlertViews()
    rebuild({"alerts": AlertsProjection(views, FRAUD_RULES, ORDER_FRAUD_RULES)}, store, AGGREGATES)
    assert set(views.alerts) == set(ids)


def test_a_read_model_replayed_whole_from_the_archive_equals_the_live_one(orders_run: OrdersRun) -> None:
    assert_a_replay_from_the_archive_rebuilds_every_read_model_as_it_is(orders_run.runtime)
