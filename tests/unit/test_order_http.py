"""The orders, inventory and shipments routes, called as API Gateway calls the handlers, over the in-memory store:
statuses, bodies, headers, every refusal (with nothing written), idempotent repeats, If-Match, the read models."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryStateViews
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.components import ORDER_VIEWS, STOCK_VIEWS
from ledger.domain.money import MAX_AMOUNT
from ledger.domain.orders import MarkShipped, Order
from ledger.domain.shipments import RequestShipment, ShipmentLine
from ledger.domain.stock import Stock
from ledger.entrypoints.http.openapi import openapi_document
from ledger.kernel.service import CommandContext, CommandService
from tests.ledger_fixtures import service_settings
from tests.unit.http_support import call, error_code

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TWO_LINES = [{"sku": "SKU-1", "quantity": 2, "unit_price": 1_500}, {"sku": "sku.2_b", "quantity": 1, "unit_price": 250}]


@dataclass(frozen=True)
class Shop:
    store: InMemoryEventStore
    orders: InMemoryStateViews[Order]
    stock: InMemoryStateViews[Stock]

    def project(self) -> None:
        """Bring the read models up to date, as the projector would."""
        for aggregate, views in ((ORDER, self.orders), (STOCK, self.stock)):
            reader = bootstrap.get(bootstrap.reader(aggregate))
            for aggregate_id in self.store.aggregate_ids(aggregate.type):
                read = reader.read(aggregate_id)
                views.replace(aggregate_id, read.version, read.state)


@pytest.fixture
def shop() -> Iterator[Shop]:
    """One in-memory store behind both functions, in-memory read models, and an order service whose clock moves a
    second per reading (so orders placed one after the other are placed at distinct instants)."""
    store = InMemoryEventStore()
    ticks = itertools.count()
    orders = CommandService(ORDER, store, service_settings(), clock=lambda: START + timedelta(seconds=next(ticks)))
    shop = Shop(store, InMemoryStateViews(feed_instant=lambda order: order.placed_at), InMemoryStateViews())
    bootstrap.reset().provide(bootstrap.COMMAND_STORE, store).provide(bootstrap.EVENT_STORE, store).provide(
        bootstrap.command_service(ORDER), orders
    ).provide(ORDER_VIEWS, shop.orders).provide(STOCK_VIEWS, shop.stock)
    yield shop
    bootstrap.reset()


def place(order_id: str = "o-1", items: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": "cust-1", "order_id": order_id, "items": TWO_LINES if items is None else items, **fields}
    response = call("POST", "/orders", body)
    assert response["statusCode"] == 201, response["json"]
    return response


def pay(order_id: str, amount: int, **fields: Any) -> dict[str, Any]:
    return call("POST", f"/orders/{order_id}/payments", {"amount": amount, **fields})


def run(aggregate: Any, command: Any) -> None:
    """A command no route sends (shipping's), straight to the aggregate's service."""
    bootstrap.get(bootstrap.command_service(aggregate)).execute(command, CommandContext("test", "test"))


def event_types(order_id: str) -> list[str]:
    return [event["type"] for event in call("GET", f"/orders/{order_id}/events")["json"]["events"]]


# --- placing an order ----------------------------------------------------------------------------------------


def test_placing_an_order_answers_201_with_its_state_location_and_etag(shop: Shop) -> None:
    response = place()
    assert response["headers"]["Location"] == "/orders/o-1"
    assert response["headers"]["ETag"] == '"3"'  # OrderPlaced, then one ItemAddedToOrder per line
    body = response["json"]
    assert body == {
        "order_id": "o-1",
        "customer_id": "cust-1",
        "currency": "USD",
        "status": "placed",
        "items": [
            {"sku": "SKU-1", "quantity": 2, "unit_price": 1_500, "backordered": 0},
            {"sku": "sku.2_b", "quantity": 1, "unit_price": 250, "backordered": 0},
        ],
        "total": 3_250,
        "paid": 0,
        "version": 3,
        "placed_at": body["placed_at"],
        "updated_at": body["placed_at"],
        "shipment_id": None,
    }
    assert event_types("o-1") == ["OrderPlaced", "ItemAddedToOrder", "ItemAddedToOrder"]


def test_an_order_id_is_generated_when_left_out_and_an_order_may_start_empty(shop: Shop) -> None:
    response = call("POST", "/orders", {"customer_id": "cust-1", "currency": "EUR"})
    assert response["statusCode"] == 201
    order_id = response["json"]["order_id"]
    assert len(order_id) == 36
    assert response["headers"]["Location"] == f"/orders/{order_id}"
    assert (response["json"]["currency"], response["json"]["items"], response["json"]["version"]) == ("EUR", [], 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "customer_id"),
        ({"customer_id": "   "}, "customer_id"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": "a\u0000b"}, "customer_id"),
        ({"customer_id": "x" * 201}, "customer_id"),
        ({"customer_id": 7}, "customer_id"),
        ({"customer_id": "c", "currency": "usd"}, "currency"),
        ({"customer_id": "c", "currency": "XYZ"}, "currency"),  # the right shape, but no currency (the domain's)
        ({"customer_id": "c", "order_id": "has space"}, "order_id"),
        ({"customer_id": "c", "order_id": "a.b"}, "order_id"),
        ({"customer_id": "c", "coupon": "FREE"}, "coupon"),
        ({"customer_id": "c", "items": {"sku": "A"}}, "items"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": 1}] * 101}, "items"),
        ({"customer_id": "c", "items": ["A"]}, "items[0]"),
        ({"customer_id": "c", "items": [{"quantity": 1, "unit_price": 1}]}, "items[0].sku"),
        ({"customer_id": "c", "items": [{"sku": ".A", "quantity": 1, "unit_price": 1}]}, "items[0].sku"),
        ({"customer_id": "c", "items": [{"sku": "A" * 65, "quantity": 1, "unit_price": 1}]}, "items[0].sku"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 0, "unit_price": 1}]}, "items[0].quantity"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 1_000_001, "unit_price": 1}]}, "items[0].quantity"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 1.5, "unit_price": 1}]}, "items[0].quantity"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": -1}]}, "items[0].unit_price"),
        (
            {"customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": MAX_AMOUNT + 1}]},
            "items[0].unit_price",
        ),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 1, "unit_price": 1, "x": 1}]}, "items[0].x"),
        ({"customer_id": "c", "items": [{"sku": "A", "quantity": 2, "unit_price": MAX_AMOUNT}]}, "items"),  # total
    ],
)
def test_placing_validates_every_field_and_writes_nothing(shop: Shop, body: dict[str, Any], field: str) -> None:
    response = call("POST", "/orders", body)
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")
    assert field in [detail["field"] for detail in response["json"]["error"]["details"]]
    assert shop.store.appends == 0


def test_placing_an_order_id_that_exists_is_409_order_exists(shop: Shop) -> None:
    place()
    response = call("POST", "/orders", {"customer_id": "someone-else", "order_id": "o-1"})
    assert (response["statusCode"], error_code(response)) == (409, "order_exists")
    assert shop.store.appends == 1


def test_a_repeated_placement_with_its_idempotency_key_answers_the_first_order_once(shop: Shop) -> None:
    # GIVEN an order placed with an Idempotency-Key and no order id (one is generated)
    first = call("POST", "/orders", {"customer_id": "cust-1", "items": TWO_LINES}, Idempotency_Key="place-1")
    # WHEN the same request is sent again
    repeat = call("POST", "/orders", {"customer_id": "cust-1", "items": TWO_LINES}, Idempotency_Key="place-1")
    # THEN it answers the first order (same id, 201), says it is a replay, and nothing more was written
    assert (repeat["statusCode"], repeat["body"]) == (first["statusCode"], first["body"])
    assert repeat["headers"]["Idempotent-Replayed"] == "true"
    assert repeat["headers"]["Location"] == first["headers"]["Location"]
    assert shop.store.appends == 1
    # AND the key cannot be used for another request
    reused = call("POST", "/orders", {"customer_id": "cust-2"}, Idempotency_Key="place-1")
    assert (reused["statusCode"], error_code(reused)) == (422, "idempotency_key_reused")


# --- lines, payments, cancelling -----------------------------------------------------------------------------


def test_an_item_is_added_as_another_line(shop: Shop) -> None:
    place(items=[])
    response = call("POST", "/orders/o-1/items", {"sku": "SKU-1", "quantity": 3, "unit_price": 100, "currency": "USD"})
    assert (response["statusCode"], response["headers"]["ETag"]) == (200, '"2"')
    assert "Location" not in response["headers"]
    assert (response["json"]["items"], response["json"]["total"]) == (
        [{"sku": "SKU-1", "quantity": 3, "unit_price": 100, "backordered": 0}],
        300,
    )


def test_paying_in_two_parts_makes_the_order_paid(shop: Shop) -> None:
    place()
    first = pay("o-1", 3_000, payment_id="pay-1", method="bank_transfer")
    assert (first["statusCode"], first["json"]["paid"], first["json"]["status"]) == (200, 3_000, "placed")
    second = pay("o-1", 250, currency="USD")
    assert (second["json"]["paid"], second["json"]["status"], second["headers"]["ETag"]) == (3_250, "paid", '"5"')
    payments = [e["data"] for e in call("GET", "/orders/o-1/events")["json"]["events"][3:]]
    assert (payments[0]["payment_id"], payments[0]["method"]) == ("pay-1", "bank_transfer")
    assert (len(payments[1]["payment_id"]), payments[1]["method"]) == (36, "card")  # generated; the default method


def test_a_repeated_payment_with_its_idempotency_key_is_taken_once(shop: Shop) -> None:
    place()
    first = call("POST", "/orders/o-1/payments", {"amount": 1_000}, Idempotency_Key="pay-once")
    repeat = call("POST", "/orders/o-1/payments", {"amount": 1_000}, Idempotency_Key="pay-once")
    assert (repeat["statusCode"], repeat["body"]) == (200, first["body"])
    assert repeat["headers"]["Idempotent-Replayed"] == "true"
    assert call("GET", "/orders/o-1")["json"]["paid"] == 1_000
    assert event_types("o-1").count("PaymentReceived") == 1


def test_cancelling_a_paid_order_refunds_it(shop: Shop) -> None:
    place()
    pay("o-1", 3_250)
    response = call("POST", "/orders/o-1/cancel", {})
    assert (response["statusCode"], response["json"]["status"], response["json"]["paid"]) == (200, "cancelled", 0)
    assert event_types("o-1")[-2:] == ["OrderCancelled", "PaymentRefunded"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/orders/o-1/items", {"sku": "A", "quantity": 1}, "unit_price"),
        ("/orders/o-1/items", {"sku": "A b", "quantity": 1, "unit_price": 1}, "sku"),
        ("/orders/o-1/items", {"sku": "A", "quantity": 1, "unit_price": 1, "currency": "EUR"}, "currency"),
        ("/orders/o-1/items", {"sku": "A", "quantity": 1, "unit_price": 1, "note": "x"}, "note"),
        ("/orders/o-1/payments", {}, "amount"),
        ("/orders/o-1/payments", {"amount": 0}, "amount"),
        ("/orders/o-1/payments", {"amount": MAX_AMOUNT + 1}, "amount"),
        ("/orders/o-1/payments", {"amount": "5"}, "amount"),
        ("/orders/o-1/payments", {"amount": 5, "payment_id": "no way"}, "payment_id"),
        ("/orders/o-1/payments", {"amount": 5, "method": "Card"}, "method"),
        ("/orders/o-1/payments", {"amount": 5, "method": "x" * 33}, "method"),
        ("/orders/o-1/payments", {"amount": 5, "currency": "EUR"}, "currency"),
        ("/orders/o-1/cancel", {"reason": "changed my mind"}, "reason"),
        ("/orders/bad%20id/cancel", {}, "order_id"),
        ("/orders/o.1/payments", {"amount": 5}, "order_id"),
    ],
)
def test_order_commands_validate_their_input_and_write_nothing(
    shop: Shop, path: str, body: dict[str, Any], field: str
) -> None:
    place()
    appends = shop.store.appends
    response = call("POST", path, body)
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")
    assert field in [detail["field"] for detail in response["json"]["error"]["details"]]
    assert shop.store.appends == appends


def _paid() -> None:
    place()
    pay("o-1", 3_250)


def _shipped() -> None:
    _paid()
    run(ORDER, MarkShipped("o-1", "o-1"))


def _cancelled() -> None:
    place()
    call("POST", "/orders/o-1/cancel")


@pytest.mark.parametrize(
    ("given", "path", "body", "status", "code"),
    [
        (place, "/orders/nobody/items", {"sku": "A", "quantity": 1, "unit_price": 1}, 404, "order_not_found"),
        (place, "/orders/nobody/payments", {"amount": 1}, 404, "order_not_found"),
        (place, "/orders/nobody/cancel", None, 404, "order_not_found"),
        (lambda: place(items=[]), "/orders/o-1/payments", {"amount": 1}, 409, "order_empty"),
        (place, "/orders/o-1/payments", {"amount": 3_251}, 409, "overpayment"),
        (_paid, "/orders/o-1/payments", {"amount": 1}, 409, "order_not_open"),
        (_paid, "/orders/o-1/items", {"sku": "A", "quantity": 1, "unit_price": 1}, 409, "order_not_open"),
        (_cancelled, "/orders/o-1/cancel", None, 409, "order_not_open"),
        (_cancelled, "/orders/o-1/payments", {"amount": 1}, 409, "order_not_open"),
        (_shipped, "/orders/o-1/cancel", None, 409, "order_shipped"),
        (place, "/shipments/nobody/dispatch", None, 404, "shipment_not_found"),
        (place, "/shipments/nobody/deliver", {}, 404, "shipment_not_found"),
    ],
)
def test_each_refusal_has_its_status_and_code_and_writes_nothing(
    shop: Shop, given: Any, path: str, body: Any, status: int, code: str
) -> None:
    given()
    appends = shop.store.appends
    response = call("POST", path, body)
    assert (response["statusCode"], error_code(response)) == (status, code)
    assert response["json"]["error"]["message"]
    assert shop.store.appends == appends


def test_a_payment_id_is_taken_once(shop: Shop) -> None:
    place()
    pay("o-1", 100, payment_id="pay-1")
    again = pay("o-1", 100, payment_id="pay-1")
    assert (again["statusCode"], error_code(again)) == (409, "payment_recorded")
    assert call("GET", "/orders/o-1")["json"]["paid"] == 100


def test_if_match_guards_order_commands(shop: Shop) -> None:
    place()
    appends = shop.store.appends
    stale = call("POST", "/orders/o-1/payments", {"amount": 100}, If_Match='"2"')
    assert (stale["statusCode"], error_code(stale)) == (412, "precondition_failed")
    assert shop.store.appends == appends
    current = call("POST", "/orders/o-1/payments", {"amount": 100}, If_Match='"3"')
    assert (current["statusCode"], current["headers"]["ETag"]) == (200, '"4"')
    garbled = call("POST", "/orders/o-1/cancel", None, If_Match="latest")
    assert (garbled["statusCode"], error_code(garbled)) == (422, "validation_error")


def test_the_correlation_id_is_recorded_on_the_orders_events(shop: Shop) -> None:
    response = call("POST", "/orders", {"customer_id": "c", "order_id": "o-1"}, X_Correlation_Id="trace-7")
    assert response["headers"]["X-Correlation-Id"] == "trace-7"
    assert call("GET", "/orders/o-1/events")["json"]["events"][0]["metadata"]["correlation_id"] == "trace-7"


# --- inventory -----------------------------------------------------------------------------------------------


def test_a_restock_answers_200_even_when_it_brings_the_stock_into_being(shop: Shop) -> None:
    first = call("POST", "/inventory/SKU.1-a_b/restocks", {"quantity": 5})
    assert (first["statusCode"], first["headers"]["ETag"]) == (200, '"1"')
    assert "Location" not in first["headers"]
    assert first["json"] == {
        "sku": "SKU.1-a_b",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
        "backordered": 0,
        "version": 1,
    }
    second = call("POST", "/inventory/SKU.1-a_b/restocks", {"quantity": 7}, Idempotency_Key="r-2", If_Match='"1"')
    assert (second["statusCode"], second["json"]["on_hand"], second["json"]["version"]) == (200, 12, 2)
    repeat = call("POST", "/inventory/SKU.1-a_b/restocks", {"quantity": 7}, Idempotency_Key="r-2", If_Match='"1"')
    assert (repeat["statusCode"], repeat["body"], repeat["headers"]["Idempotent-Replayed"]) == (
        200,
        second["body"],
        "true",
    )
    assert call("GET", "/inventory/SKU.1-a_b")["json"]["on_hand"] == 12


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/inventory/A/restocks", {}, "quantity"),
        ("/inventory/A/restocks", {"quantity": 0}, "quantity"),
        ("/inventory/A/restocks", {"quantity": 1_000_000_001}, "quantity"),
        ("/inventory/A/restocks", {"quantity": 1, "note": "x"}, "note"),
        ("/inventory/.A/restocks", {"quantity": 1}, "sku"),
        ("/inventory/a%20b/restocks", {"quantity": 1}, "sku"),
    ],
)
def test_a_restock_validates_its_input_and_writes_nothing(
    shop: Shop, path: str, body: dict[str, Any], field: str
) -> None:
    response = call("POST", path, body)
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")
    assert field in [detail["field"] for detail in response["json"]["error"]["details"]]
    assert shop.store.appends == 0


def test_a_skus_stock_is_read_now_or_at_a_version(shop: Shop) -> None:
    call("POST", "/inventory/A/restocks", {"quantity": 5})
    call("POST", "/inventory/A/restocks", {"quantity": 2})
    now = call("GET", "/inventory/A")
    assert (now["statusCode"], now["headers"]["ETag"], now["json"]["on_hand"]) == (200, '"2"', 7)
    assert call("GET", "/inventory/A?version=1")["json"]["on_hand"] == 5
    missing = call("GET", "/inventory/never-restocked")
    assert (missing["statusCode"], error_code(missing)) == (404, "stock_not_found")
    bad = call("GET", "/inventory/no%20such")
    assert (bad["statusCode"], error_code(bad)) == (422, "validation_error")


# --- shipments -----------------------------------------------------------------------------------------------


def test_an_orders_shipment_is_404_order_not_found_then_shipment_not_found_then_its_state(shop: Shop) -> None:
    # GIVEN no order, THEN its shipment is order_not_found
    missing = call("GET", "/orders/o-1/shipment")
    assert (missing["statusCode"], error_code(missing)) == (404, "order_not_found")
    # GIVEN the order, before shipping requests its shipment, THEN shipment_not_found
    _paid()
    waiting = call("GET", "/orders/o-1/shipment")
    assert (waiting["statusCode"], error_code(waiting)) == (404, "shipment_not_found")
    # WHEN shipping requests it (the shipment's id is the order's), THEN it is read back
    run(SHIPMENT, RequestShipment("o-1", "o-1", (ShipmentLine("SKU-1", 2), ShipmentLine("sku.2_b", 1))))
    shipment = call("GET", "/orders/o-1/shipment")
    assert (shipment["statusCode"], shipment["headers"]["ETag"]) == (200, '"1"')
    assert shipment["json"] == {
        "shipment_id": "o-1",
        "order_id": "o-1",
        "status": "requested",
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "sku.2_b", "quantity": 1}],
        "version": 1,
        "requested_at": shipment["json"]["requested_at"],
        "updated_at": shipment["json"]["requested_at"],
    }
    assert call("GET", "/orders/o-1/shipment?version=1")["statusCode"] == 422  # no temporal reads here


def test_a_shipment_is_dispatched_then_delivered_in_that_order(shop: Shop) -> None:
    _paid()
    run(SHIPMENT, RequestShipment("o-1", "o-1", (ShipmentLine("SKU-1", 2),)))
    early = call("POST", "/shipments/o-1/deliver")
    assert (early["statusCode"], error_code(early)) == (409, "shipment_not_ready")
    dispatched = call("POST", "/shipments/o-1/dispatch", {}, If_Match='"1"')
    assert (dispatched["statusCode"], dispatched["json"]["status"], dispatched["headers"]["ETag"]) == (
        200,
        "dispatched",
        '"2"',
    )
    again = call("POST", "/shipments/o-1/dispatch")
    assert (again["statusCode"], error_code(again)) == (409, "shipment_not_ready")
    delivered = call("POST", "/shipments/o-1/deliver")
    assert (delivered["statusCode"], delivered["json"]["status"]) == (200, "delivered")
    assert call("POST", "/shipments/o-1/dispatch", {"now": True})["statusCode"] == 422


# --- reads -----------------------------------------------------------------------------------------------------


def test_an_order_is_read_now_at_a_version_or_as_of_an_instant(shop: Shop) -> None:
    placed = place()
    pay("o-1", 1_000)
    now = call("GET", "/orders/o-1")
    assert (now["statusCode"], now["headers"]["ETag"], now["json"]["paid"]) == (200, '"4"', 1_000)
    assert call("GET", "/orders/o-1?version=3")["json"] == placed["json"]
    as_of = call("GET", f"/orders/o-1?as_of={quote(placed['json']['placed_at'])}")
    assert (as_of["json"]["version"], as_of["json"]["paid"]) == (3, 0)
    for path, status, code in (
        ("/orders/o-1?version=9", 404, "version_not_found"),
        ("/orders/o-1?version=1&as_of=2026-01-01T00:00:00Z", 422, "validation_error"),
        ("/orders/o-1?as_of=2026-01-01T00:00:00", 422, "validation_error"),
        ("/orders/o-1?as_of=2020-01-01T00:00:00Z", 404, "order_not_found"),
        ("/orders/nobody", 404, "order_not_found"),
        ("/orders/nobody/events", 404, "order_not_found"),
        ("/orders/o-1/events?limit=0", 422, "validation_error"),
        ("/orders/bad%20id", 422, "validation_error"),
    ):
        response = call("GET", path)
        assert (response["statusCode"], error_code(response)) == (status, code), path


def test_an_orders_events_are_paged_in_order(shop: Shop) -> None:
    place()
    page = call("GET", "/orders/o-1/events?after=1&limit=1")["json"]
    assert ([e["type"] for e in page["events"]], page["next_after"]) == (["ItemAddedToOrder"], 2)
    assert page["events"][0]["data"] == {
        "order_id": "o-1",
        "line": 1,
        "sku": "SKU-1",
        "quantity": 2,
        "unit_price": 1_500,
    }


def test_orders_are_listed_newest_first_from_the_read_model_a_page_at_a_time(shop: Shop) -> None:
    # GIVEN three orders placed one after the other, projected into the read model
    for order_id in ("o-1", "o-2", "o-3"):
        place(order_id)
    pay("o-1", 100)
    shop.project()
    # WHEN the list is read two at a time, THEN it is newest first, each order at its version
    first = call("GET", "/orders?limit=2")["json"]
    assert [o["order_id"] for o in first["orders"]] == ["o-3", "o-2"]
    assert first["orders"][0] == call("GET", "/orders/o-3")["json"]
    second = call("GET", f"/orders?limit=2&cursor={quote(first['next_cursor'])}")["json"]
    assert ([o["order_id"] for o in second["orders"]], second["next_cursor"]) == (["o-1"], None)
    assert (second["orders"][0]["paid"], second["orders"][0]["version"]) == (100, 4)
    assert [o["order_id"] for o in call("GET", "/orders")["json"]["orders"]] == ["o-3", "o-2", "o-1"]
    for bad in ("/orders?limit=0", "/orders?limit=101", "/orders?cursor=nonsense", "/orders?status=paid"):
        response = call("GET", bad)
        assert (response["statusCode"], error_code(response)) == (422, "validation_error"), bad


def test_stock_is_listed_from_the_read_model_a_page_at_a_time(shop: Shop) -> None:
    for sku in ("A", "B", "C"):
        call("POST", f"/inventory/{sku}/restocks", {"quantity": 3})
    shop.project()
    first = call("GET", "/inventory?limit=2")["json"]
    assert [s["sku"] for s in first["stock"]] == ["A", "B"]
    assert first["stock"][0] == {
        "sku": "A",
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
        "backordered": 0,
        "version": 1,
    }
    second = call("GET", f"/inventory?limit=2&cursor={quote(first['next_cursor'])}")["json"]
    assert ([s["sku"] for s in second["stock"]], second["next_cursor"]) == (["C"], None)
    bad = call("GET", "/inventory?cursor=nonsense")
    assert (bad["statusCode"], error_code(bad)) == (422, "validation_error")


# --- the document ----------------------------------------------------------------------------------------------


def test_the_openapi_document_describes_each_new_operation() -> None:
    paths = openapi_document()["paths"]
    place_order = paths["/orders"]["post"]
    assert place_order["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PlaceOrder"
    }
    assert place_order["responses"]["201"]["headers"]["ETag"]
    assert place_order["tags"] == ["orders"]
    for path, method, parameter, tag in (
        ("/orders/{order_id}/payments", "post", "order_id", "orders"),
        ("/inventory/{sku}/restocks", "post", "sku", "inventory"),
        ("/inventory/{sku}", "get", "sku", "inventory"),
        ("/shipments/{shipment_id}/dispatch", "post", "shipment_id", "shipments"),
        ("/orders/{order_id}/shipment", "get", "order_id", "shipments"),
    ):
        operation = paths[path][method]
        path_parameters = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
        assert (path_parameters, tag in operation["tags"]) == ([parameter], True), path
    cancel = paths["/orders/{order_id}/cancel"]["post"]
    assert cancel["requestBody"]["required"] is False
    assert {p["name"] for p in cancel["parameters"] if p["in"] == "header"} == {
        "Idempotency-Key",
        "If-Match",
        "X-Correlation-Id",
    }


def test_every_body_is_what_the_document_says(shop: Shop) -> None:
    # GIVEN an order paid and shipped, its stock, and the read models
    call("POST", "/inventory/SKU-1/restocks", {"quantity": 9})
    _paid()
    run(SHIPMENT, RequestShipment("o-1", "o-1", (ShipmentLine("SKU-1", 2),)))
    shop.project()
    document = openapi_document()

    def conforms(component: str, body: Any) -> None:
        schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
        Draft202012Validator.check_schema(schema)
        Draft202012Validator(schema).validate(body)

    # THEN each response body is valid against the component its operation names
    for method, path, component in (
        ("GET", "/orders/o-1", "OrderState"),
        ("GET", "/orders", "OrdersPage"),
        ("GET", "/orders/o-1/events", "EventsPage"),
        ("GET", "/orders/o-1/shipment", "ShipmentState"),
        ("POST", "/shipments/o-1/dispatch", "ShipmentState"),
        ("GET", "/inventory/SKU-1", "StockState"),
        ("GET", "/inventory", "StockPage"),
        ("GET", "/orders/nobody", "Error"),
    ):
        conforms(component, call(method, path)["json"])
    # AND so are the requests the tests send
    conforms("PlaceOrder", {"customer_id": "c", "items": TWO_LINES})
    conforms("ReceivePayment", {"amount": 1, "payment_id": "p-1", "method": "card", "currency": "USD"})
