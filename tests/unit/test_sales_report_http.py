"""GET /analytics/sales through the query function's handler, over an in-memory sales read model: the range and
its buckets, the totals and top products of one currency, the defaults, and each refusal naming its parameter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ledger import bootstrap
from ledger.adapters.memory_read_models import InMemorySalesStore
from ledger.components import SALES_STORE
from ledger.domain.sales import Contribution, ProductSales, SalesFigures
from ledger.entrypoints.http.openapi import openapi_document
from tests.unit.http_support import call, error_code

ZERO: dict[str, int] = {
    "orders_placed": 0,
    "orders_paid": 0,
    "revenue": 0,
    "items_sold": 0,
    "average_order_value": 0,
    "cancelled": 0,
}


@pytest.fixture
def sales() -> Iterator[InMemorySalesStore]:
    store = InMemorySalesStore()
    bootstrap.reset().provide(SALES_STORE, store)
    yield store
    bootstrap.reset()


def sell(store: InMemorySalesStore, minute: str, currency: str = "USD", **figures: int) -> None:
    """One event's contribution at `minute` (figures, no products) in `currency`."""
    store.add([(f"event-{len(store.applied)}", Contribution(currency, minute, SalesFigures(**figures)))])


def pay(store: InMemorySalesStore, minute: str, lines: dict[str, tuple[int, int]], currency: str = "USD") -> None:
    """An order of `lines` ({sku: (quantity, unit price)}) paid in full in one payment at `minute`."""
    total = sum(quantity * price for quantity, price in lines.values())
    products = tuple(ProductSales(sku, quantity, quantity * price) for sku, (quantity, price) in lines.items())
    figures = SalesFigures(orders_paid=1, revenue=total, items_sold=sum(q for q, _ in lines.values()), paid_value=total)
    store.add([(f"event-{len(store.applied)}", Contribution(currency, minute, figures, products))])


def report(query: str) -> dict[str, Any]:
    response = call("GET", f"/analytics/sales?{query}")
    assert response["statusCode"] == 200, response["json"]
    assert response["headers"]["Cache-Control"] == "no-store"
    body: dict[str, Any] = response["json"]
    return body


def test_minute_buckets_cover_the_range_and_the_totals_and_top_products_are_the_ranges(
    sales: InMemorySalesStore,
) -> None:
    # GIVEN two orders placed at 09:30, both paid at 09:31, one cancelled at 09:40 and refunded
    sell(sales, "2026-12-01T09:30", orders_placed=2)
    pay(sales, "2026-12-01T09:31", {"sku-a": (2, 1_000), "sku-b": (1, 500)})
    pay(sales, "2026-12-01T09:31", {"sku-a": (1, 1_000)})
    sell(sales, "2026-12-01T09:40", cancelled=1, refunds=1_000)
    # AND sales outside the range or in another currency
    sell(sales, "2026-12-01T09:29", orders_placed=5)
    sell(sales, "2026-12-01T10:00", orders_placed=7)
    sell(sales, "2026-12-01T09:35", "EUR", orders_placed=3)

    # WHEN the half hour from 09:30:20 to 10:00 is asked for, minute by minute
    body = report("from=2026-12-01T09:30:20Z&to=2026-12-01T10:00:00Z")

    # THEN it counts the whole minutes the range touches: 09:30 to 09:59
    assert (body["currency"], body["bucket"], body["from"], body["to"]) == (
        "USD",
        "minute",
        "2026-12-01T09:30:00Z",
        "2026-12-01T10:00:00Z",
    )
    assert [b["start"] for b in body["buckets"]] == [f"2026-12-01T09:{m:02d}:00Z" for m in range(30, 60)]
    assert body["buckets"][0] == {"start": "2026-12-01T09:30:00Z", **ZERO, "orders_placed": 2}
    assert body["buckets"][1] == {
        "start": "2026-12-01T09:31:00Z",
        **ZERO,
        "orders_paid": 2,
        "revenue": 3_500,
        "items_sold": 4,
        "average_order_value": 1_750,
    }
    assert body["buckets"][10] == {"start": "2026-12-01T09:40:00Z", **ZERO, "cancelled": 1}
    assert all(b == {"start": b["start"], **ZERO} for i, b in enumerate(body["buckets"]) if i not in (0, 1, 10))
    # AND the totals are the range's, refunds included
    assert body["totals"] == {
        "orders_placed": 2,
        "orders_paid": 2,
        "revenue": 3_500,
        "items_sold": 4,
        "average_order_value": 1_750,
        "cancelled": 1,
        "refunds": 1_000,
    }
    assert body["top_products"] == [
        {"sku": "sku-a", "quantity": 3, "revenue": 3_000},
        {"sku": "sku-b", "quantity": 1, "revenue": 500},
    ]


def test_hour_buckets_start_on_the_hour_and_to_counts_the_minute_it_falls_in(sales: InMemorySalesStore) -> None:
    # GIVEN orders placed at 00:00, 09:59 and 10:00 of a day, and at 10:01
    for minute in ("00:00", "09:59", "10:00", "10:01"):
        sell(sales, f"2026-12-01T{minute}", orders_placed=1)

    # WHEN the day so far is asked for by the hour, up to 10:00:30 (given with a +02:00 offset)
    body = report("from=2026-12-01T00:00:00Z&to=2026-12-01T12:00:30%2B02:00&bucket=hour")

    # THEN there is one bucket per hour from midnight to 10:00, and 10:00 counts (the minute under way), 10:01 not
    assert (body["from"], body["to"]) == ("2026-12-01T00:00:00Z", "2026-12-01T10:01:00Z")
    assert [b["start"][11:16] for b in body["buckets"]] == [f"{h:02d}:00" for h in range(11)]
    assert [b["orders_placed"] for b in body["buckets"]] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert body["totals"]["orders_placed"] == 3


def test_an_hour_bucket_that_starts_before_from_counts_only_the_minutes_from_from_on(
    sales: InMemorySalesStore,
) -> None:
    sell(sales, "2026-12-01T09:10", orders_placed=1)
    sell(sales, "2026-12-01T09:40", orders_placed=1)

    body = report("from=2026-12-01T09:30:00Z&to=2026-12-01T10:00:00Z&bucket=hour")

    assert [(b["start"], b["orders_placed"]) for b in body["buckets"]] == [("2026-12-01T09:00:00Z", 1)]
    assert body["totals"]["orders_placed"] == 1


def test_by_default_the_last_hour_to_now_by_the_minute_in_usd(sales: InMemorySalesStore) -> None:
    # GIVEN an order placed in USD this minute, one in EUR, and one in USD two hours ago
    now = datetime.now(UTC)
    sell(sales, f"{now:%Y-%m-%dT%H:%M}", orders_placed=1)
    sell(sales, f"{now:%Y-%m-%dT%H:%M}", "EUR", orders_placed=1)
    sell(sales, f"{now - timedelta(hours=2):%Y-%m-%dT%H:%M}", orders_placed=1)

    # WHEN the report is asked for with no parameters
    body = report("")

    # THEN it covers the hour up to now, the minute under way included: 61 minutes touched
    start = datetime.fromisoformat(body["from"])
    end = datetime.fromisoformat(body["to"])
    assert (body["currency"], body["bucket"]) == ("USD", "minute")
    assert end - start == timedelta(minutes=61)
    assert start <= now - timedelta(hours=1)
    assert now < end <= datetime.now(UTC) + timedelta(minutes=1)
    assert len(body["buckets"]) == 61
    assert body["totals"]["orders_placed"] == 1
    # AND another currency is asked for by its code
    assert report("currency=EUR")["totals"]["orders_placed"] == 1
    assert report("currency=GBP")["totals"] == {**ZERO, "refunds": 0}


def test_ranges_at_the_bucket_limits_are_answered(sales: InMemorySalesStore) -> None:
    day = report("from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z")
    month = report("from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z&bucket=hour")
    assert (len(day["buckets"]), len(month["buckets"])) == (1_440, 744)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("to=2026-12-01T10:00:00", "to"),  # no UTC offset
        ("from=2026-12-01T10:00:00+00:00", "from"),  # an unencoded '+' is a space
        ("from=0001-01-01T00:00:00Z", "from"),
        ("to=9999-12-31T23:59:59Z", "to"),
        ("from=0001-01-01T00:00:00Z&to=tomorrow", "from,to"),  # each one named
        ("from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:00Z", "from"),  # an empty range
        ("from=2026-12-01T10:00:00Z&to=2026-12-01T09:00:00Z", "from"),
        ("from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:01Z", "from"),  # 1,441 minutes
        ("from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:01Z&bucket=hour", "from"),  # 745 hours
        ("bucket=day", "bucket"),
        ("currency=usd", "currency"),
        ("currency=", "currency"),
        ("limit=5", "limit"),
    ],
)
def test_a_malformed_or_too_long_range_is_refused_naming_its_parameter(
    sales: InMemorySalesStore, query: str, field: str
) -> None:
    response = call("GET", f"/analytics/sales?{query}")
    assert (response["statusCode"], error_code(response)) == (422, "validation_error")
    assert sorted(detail["field"] for detail in response["json"]["error"]["details"]) == field.split(",")


def test_the_report_is_what_the_openapi_document_says(sales: InMemorySalesStore) -> None:
    pay(sales, "2026-12-01T09:31", {"sku-a": (2, 1_000)})
    document = openapi_document()
    operation = document["paths"]["/analytics/sales"]["get"]
    assert operation["tags"] == ["analytics"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "bucket", "currency"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SalesReport"
    }
    assert "422" in operation["responses"]

    body = report("from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z")
    schema = {"$ref": "#/components/schemas/SalesReport", "components": document["components"]}
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(body)
    components = document["components"]["schemas"]
    assert set(body) == set(components["SalesReport"]["required"])
    assert set(body["buckets"][0]) == set(components["SalesBucket"]["required"])
    assert set(body["totals"]) == set(components["SalesTotals"]["required"])
    assert set(body["top_products"][0]) == set(components["ProductSales"]["required"])
