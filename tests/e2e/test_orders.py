"""Orders, inventory and shipments over real HTTP: the seed order story (stock in, an order of two lines paid in two
parts), the refusals with their codes and nothing written, and the orders read model catching up.

No consumer is assumed to react to orders here (reservations, shipments): the tests restock before ordering, so an
order never waits for stock, and only read shipments that cannot exist."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.pipeline import eventually
from tests.e2e.support import assert_error

READ_MODEL_WAIT_SECONDS = 20  # how stale the orders read model may be after a command
LINES = ({"quantity": 2, "unit_price": 1_250}, {"quantity": 1, "unit_price": 4_999})  # $74.99 in all


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def restocked_skus(api: ApiClient, *quantities: int) -> list[str]:
    """Fresh skus, each restocked with its quantity."""
    skus = [unique_id("sku") for _ in quantities]
    for sku, quantity in zip(skus, quantities, strict=True):
        response = api.post(f"/inventory/{sku}/restocks", {"quantity": quantity})
        assert response.status == 200, response.body
    return skus


def place(api: ApiClient, skus: list[str], **fields: Any) -> dict[str, Any]:
    items = [{"sku": sku, **line} for sku, line in zip(skus, LINES, strict=False)]
    response = api.post("/orders", {"customer_id": "E2E Customer", "items": items, **fields})
    assert response.status == 201, response.body
    body: dict[str, Any] = response.json
    return body


def events_of(api: ApiClient, order_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/orders/{order_id}/events?limit=1000")
    assert (response.status, response.json["next_after"]) == (200, None), response.body
    events: list[dict[str, Any]] = response.json["events"]
    return events


def listed_order(api: ApiClient, order_id: str, version: int, pages: int = 5) -> dict[str, Any] | None:
    """The order's row in GET /orders (newest first: within the first pages) once it is at `version`."""
    cursor: str | None = None
    for _ in range(pages):
        response = api.get("/orders?limit=100" + (f"&cursor={quote(cursor)}" if cursor else ""))
        assert response.status == 200, response.body
        for row in response.json["orders"]:
            if row["order_id"] == order_id:
                return row if row["version"] == version else None
        cursor = response.json["next_cursor"]
        if cursor is None:
            return None
    return None


def test_an_order_of_two_lines_paid_in_two_parts_is_paid_and_its_history_tells_how(api: ApiClient) -> None:
    # GIVEN two skus in stock
    sku_a, sku_b = restocked_skus(api, 10, 5)
    stock = api.get(f"/inventory/{sku_a}")
    assert (stock.status, stock.header("etag")) == (200, '"1"')
    assert (stock.json["sku"], stock.json["on_hand"], stock.json["version"]) == (sku_a, 10, 1)

    # WHEN an order of both is placed (its id chosen by the client)
    order_id = unique_id("order")
    items = [{"sku": sku_a, **LINES[0]}, {"sku": sku_b, **LINES[1]}]
    placed = api.post("/orders", {"customer_id": "Ada Lovelace", "order_id": order_id, "items": items}, headers=key())

    # THEN it is created with both lines, at version 3 (placed, then one event per line)
    assert (placed.status, placed.header("location"), placed.header("etag")) == (201, f"/orders/{order_id}", '"3"')
    assert placed.json == {
        "order_id": order_id,
        "customer_id": "Ada Lovelace",
        "currency": "USD",
        "status": "placed",
        "items": [
            {"sku": sku_a, "quantity": 2, "unit_price": 1_250, "backordered": 0},
            {"sku": sku_b, "quantity": 1, "unit_price": 4_999, "backordered": 0},
        ],
        "total": 7_499,
        "paid": 0,
        "version": 3,
        "placed_at": placed.json["placed_at"],
        "updated_at": placed.json["placed_at"],
        "shipment_id": None,
    }

    # WHEN it is paid in two parts, the first guarded by the version the client saw
    first = api.post(f"/orders/{order_id}/payments", {"amount": 5_000}, headers={"If-Match": '"3"'})
    second = api.post(f"/orders/{order_id}/payments", {"amount": 2_499, "method": "gift_card"})

    # THEN the first leaves it placed with money due, the second makes it paid
    assert (first.status, first.json["paid"], first.json["status"], first.header("etag")) == (
        200,
        5_000,
        "placed",
        '"4"',
    )
    assert (second.status, second.json["paid"], second.json["status"], second.header("etag")) == (
        200,
        7_499,
        "paid",
        '"5"',
    )
    state = api.get(f"/orders/{order_id}")
    assert (state.status, state.header("etag"), state.json) == (200, '"5"', second.json)
    assert api.get(f"/orders/{order_id}?version=3").json == placed.json

    # AND the history holds each fact, in order
    events = events_of(api, order_id)
    assert [(e["version"], e["type"]) for e in events] == [
        (1, "OrderPlaced"),
        (2, "ItemAddedToOrder"),
        (3, "ItemAddedToOrder"),
        (4, "PaymentReceived"),
        (5, "PaymentReceived"),
    ]
    assert [e["data"]["amount"] for e in events[3:]] == [5_000, 2_499]
    assert [e["data"]["method"] for e in events[3:]] == ["card", "gift_card"]

    # AND the stock of each sku is still on hand (ordering reserves, it does not take stock away)
    assert [api.get(f"/inventory/{sku}").json["on_hand"] for sku in (sku_a, sku_b)] == [10, 5]

    # AND more money or more lines are refused now, writing nothing
    assert_error(api.post(f"/orders/{order_id}/payments", {"amount": 1}), 409, "order_not_open")
    assert_error(
        api.post(f"/orders/{order_id}/items", {"sku": sku_a, "quantity": 1, "unit_price": 1}), 409, "order_not_open"
    )
    assert len(events_of(api, order_id)) == 5

    # AND the orders read model lists it, at that version, within a bounded wait
    row = eventually(lambda: listed_order(api, order_id, 5), timeout=READ_MODEL_WAIT_SECONDS)
    assert row == second.json


def test_a_repeated_placement_with_its_key_answers_the_first_order_and_places_nothing_more(api: ApiClient) -> None:
    skus = restocked_skus(api, 3)
    headers = key()
    body = {"customer_id": "E2E Customer", "items": [{"sku": skus[0], "quantity": 1, "unit_price": 100}]}
    first = api.post("/orders", body, headers=headers)
    repeat = api.post("/orders", body, headers=headers)
    assert first.status == 201
    assert len(first.json["order_id"]) == 36  # generated
    assert (repeat.status, repeat.json, repeat.header("idempotent-replayed")) == (201, first.json, "true")
    assert len(events_of(api, first.json["order_id"])) == 2


def test_payments_beyond_what_is_due_or_on_an_empty_order_are_refused(api: ApiClient) -> None:
    order = place(api, restocked_skus(api, 5))
    assert_error(api.post(f"/orders/{order['order_id']}/payments", {"amount": 2_501}), 409, "overpayment")
    taken = api.post(f"/orders/{order['order_id']}/payments", {"amount": 100, "payment_id": "pay-1"})
    assert taken.status == 200
    assert_error(
        api.post(f"/orders/{order['order_id']}/payments", {"amount": 100, "payment_id": "pay-1"}),
        409,
        "payment_recorded",
    )
    empty = api.post("/orders", {"customer_id": "E2E Customer"})
    assert (empty.status, empty.json["items"]) == (201, [])
    assert_error(api.post(f"/orders/{empty.json['order_id']}/payments", {"amount": 1}), 409, "order_empty")
    assert len(events_of(api, order["order_id"])) == 3


def test_a_cancelled_order_refuses_cancelling_paying_and_adding(api: ApiClient) -> None:
    # GIVEN an order, cancelled
    order = place(api, restocked_skus(api, 5, 5))
    order_id = order["order_id"]
    cancelled = api.post(f"/orders/{order_id}/cancel")
    assert (cancelled.status, cancelled.json["status"], cancelled.header("etag")) == (200, "cancelled", '"4"')
    # WHEN anything more is asked of it, THEN it is refused with order_not_open, and nothing is written
    assert_error(api.post(f"/orders/{order_id}/cancel", {}), 409, "order_not_open")
    assert_error(api.post(f"/orders/{order_id}/payments", {"amount": 1}), 409, "order_not_open")
    assert_error(
        api.post(f"/orders/{order_id}/items", {"sku": "any", "quantity": 1, "unit_price": 1}), 409, "order_not_open"
    )
    assert [e["type"] for e in events_of(api, order_id)][-1] == "OrderCancelled"
    assert len(events_of(api, order_id)) == 4
    # AND an order that does not exist is not found, and a stale If-Match is refused before anything else
    assert_error(api.post(f"/orders/{unique_id('nobody')}/cancel"), 404, "order_not_found")
    assert_error(api.post(f"/orders/{order_id}/cancel", headers={"If-Match": '"1"'}), 412, "precondition_failed")


def test_shipments_that_do_not_exist_are_404_with_the_code_that_says_why(api: ApiClient) -> None:
    # GIVEN an order nobody has paid (so no shipment is ever requested for it)
    order_id = place(api, restocked_skus(api, 5))["order_id"]
    # THEN its shipment is shipment_not_found, an unknown order's is order_not_found
    assert_error(api.get(f"/orders/{order_id}/shipment"), 404, "shipment_not_found")
    assert_error(api.get(f"/orders/{unique_id('nobody')}/shipment"), 404, "order_not_found")
    # AND a shipment that does not exist can be neither dispatched nor delivered
    assert_error(api.post(f"/shipments/{order_id}/dispatch"), 404, "shipment_not_found")
    assert_error(api.post(f"/shipments/{unique_id('nobody')}/deliver", {}), 404, "shipment_not_found")
    assert_error(api.get(f"/orders/{order_id}/shipment"), 404, "shipment_not_found")


def test_a_restock_is_200_each_time_and_a_sku_never_seen_is_stock_not_found(api: ApiClient) -> None:
    sku = unique_id("sku")
    assert_error(api.get(f"/inventory/{sku}"), 404, "stock_not_found")
    first = api.post(f"/inventory/{sku}/restocks", {"quantity": 4})
    assert (first.status, first.header("location"), first.header("etag")) == (200, None, '"1"')
    assert first.json == {"sku": sku, "on_hand": 4, "reserved": 0, "available": 4, "backordered": 0, "version": 1}
    second = api.post(f"/inventory/{sku}/restocks", {"quantity": 6}, headers={"If-Match": '"1"'})
    assert (second.status, second.json["on_hand"], second.header("etag")) == (200, 10, '"2"')
    assert api.get(f"/inventory/{sku}?version=1").json["on_hand"] == 4


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("/orders", {"items": []}, "customer_id", id="no customer"),
        pytest.param("/orders", {"customer_id": "\u0007"}, "customer_id", id="control character as customer"),
        pytest.param("/orders", {"customer_id": "C", "currency": "usd"}, "currency", id="lowercase currency"),
        pytest.param("/orders", {"customer_id": "C", "gift": True}, "gift", id="unknown field"),
        pytest.param(
            "/orders",
            {"customer_id": "C", "items": [{"sku": "A", "quantity": 1, "unit_price": 1}] * 101},
            "items",
            id="too many lines",
        ),
        pytest.param(
            "/orders",
            {"customer_id": "C", "items": [{"sku": "A", "quantity": 0, "unit_price": 1}]},
            "items[0].quantity",
            id="zero quantity",
        ),
        pytest.param(
            "/orders",
            {"customer_id": "C", "items": [{"sku": "-A", "quantity": 1, "unit_price": 1}]},
            "items[0].sku",
            id="bad sku",
        ),
        pytest.param("/inventory/bad%20sku/restocks", {"quantity": 1}, "sku", id="bad sku in the path"),
        pytest.param("/inventory/A/restocks", {"quantity": 1.5}, "quantity", id="fractional restock"),
        pytest.param("/orders/bad.id/payments", {"amount": 1}, "order_id", id="bad order id in the path"),
    ],
)
def test_invalid_requests_are_refused_with_422_naming_the_field(
    api: ApiClient, path: str, body: dict[str, Any], field: str
) -> None:
    assert_error(api.post(path, body), 422, "validation_error", field)


def test_an_order_refused_as_invalid_is_not_created(api: ApiClient) -> None:
    order_id = unique_id("order")
    body = {"customer_id": "C", "order_id": order_id, "items": [{"sku": "A", "quantity": 1, "unit_price": -1}]}
    assert_error(api.post("/orders", body), 422, "validation_error", "items[0].unit_price")
    assert_error(api.get(f"/orders/{order_id}"), 404, "order_not_found")
    assert_error(api.get(f"/orders/{order_id}/events"), 404, "order_not_found")
