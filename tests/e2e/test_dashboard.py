"""The sales report and the dashboard page over real HTTP: an order sold moves today's figures by exactly itself
(against a baseline read first: other tests share the runtime), in its own currency only; refusals name their
parameter; the page is served, and config.json is absent so the page calls its own origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.client import ApiClient
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.sales_support import counted, counters, sell, settle, today
from tests.e2e.support import assert_error


def test_todays_totals_move_by_exactly_an_order_placed_and_paid(
    api: ApiClient, local_runtime: LocalRuntime | None
) -> None:
    # GIVEN today's figures once the pipeline is quiet
    settle(local_runtime)
    before = today(api)["totals"]

    # WHEN an order of 3 units at $12.34 is placed and paid in full
    sale = sell(api, quantity=3, unit_price=1_234)

    # THEN today's totals move by exactly that order: placed +1, paid +1, revenue +$37.02, 3 more items sold
    after = counted(api, sale, before)
    assert counters(after["totals"]) == sale.moved(before), (before, sale)


def test_an_order_in_another_currency_moves_that_currencys_figures_only(
    api: ApiClient, local_runtime: LocalRuntime | None
) -> None:
    # GIVEN today's figures in USD and in CHF (a currency no other test sells in)
    settle(local_runtime)
    usd, chf = today(api)["totals"], today(api, "CHF")["totals"]
    started = datetime.now(UTC) - timedelta(minutes=1)

    # WHEN an order of 40 units at CHF 2.50 is sold
    sale = sell(api, quantity=40, unit_price=250, currency="CHF")

    # THEN the CHF figures move by exactly it, the USD ones not at all
    after = counted(api, sale, chf, "CHF")
    assert (after["currency"], counters(after["totals"])) == ("CHF", sale.moved(chf))
    assert today(api)["totals"] == usd
    # AND the CHF minutes since the order hold it alone, its sku the one top product
    since = api.get(f"/analytics/sales?currency=CHF&from={started:%Y-%m-%dT%H:%M:%SZ}")
    assert since.status == 200, since.body
    assert since.json["top_products"] == [{"sku": sale.sku, "quantity": 40, "revenue": 10_000}]
    assert [bucket["orders_paid"] for bucket in since.json["buckets"] if bucket["orders_paid"]] == [1]
    assert (since.json["totals"]["orders_paid"], since.json["totals"]["average_order_value"]) == (1, 10_000)


def test_a_range_that_ends_before_it_starts_is_refused_naming_from(api: ApiClient) -> None:
    response = api.get("/analytics/sales?from=2026-12-01T10:00:00Z&to=2026-12-01T09:00:00Z")
    assert_error(response, 422, "validation_error", "from")
    assert_error(api.get("/analytics/sales?bucket=week"), 422, "validation_error", "bucket")


def test_the_page_is_served_and_finds_no_config_next_to_it(api: ApiClient) -> None:
    page = api.get("/dashboard")
    assert (page.status, page.header("content-type")) == (200, "text/html; charset=utf-8")
    assert b'data-metric="orders_placed"' in page.body
    # The page asks for config.json next to itself (/config.json): none here, so it calls this origin unsigned
    assert_error(api.get("/config.json"), 404, "not_found")
