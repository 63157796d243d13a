"""The order side's read-model adapters on moto: sales per minute counted once, across days; orders listed newest
first across day partitions; the state views of stock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import boto3
import pytest
from moto import mock_aws

from ledger.adapters.dynamodb_sales import DynamoDBSalesStore
from ledger.adapters.dynamodb_state_views import DynamoDBStateViews
from ledger.application.orders import ORDER
from ledger.domain.orders import Order
from ledger.domain.sales import Contribution, ProductSales, SalesFigures
from local.resources import create_tables


@pytest.fixture
def tables() -> Iterator[dict[str, str]]:
    with mock_aws():
        yield create_tables(boto3.client("dynamodb"))


def paid(minute: str, revenue: int, *products: ProductSales) -> Contribution:
    return Contribution("USD", minute, SalesFigures(orders_paid=1, revenue=revenue, paid_value=revenue), products)


def test_sales_count_each_event_once_and_read_back_by_minute_across_days(tables: dict[str, str]) -> None:
    store = DynamoDBSalesStore(boto3.client("dynamodb"), tables["SALES_TABLE_NAME"])
    added = store.add(
        [
            ("e-1", paid("2026-11-30T23:59", 500, ProductSales("sku-a", 1, 500))),
            ("e-2", paid("2026-12-01T00:00", 700, ProductSales("sku-a", 2, 600), ProductSales("sku-b", 1, 100))),
            ("e-3", Contribution("EUR", "2026-12-01T00:00", SalesFigures(orders_placed=1))),
        ]
    )
    again = store.add([("e-2", paid("2026-12-01T00:00", 700, ProductSales("sku-a", 2, 600)))])
    twice_in_one_call = store.add([("e-4", paid("2026-11-30T23:59", 1)), ("e-4", paid("2026-11-30T23:59", 1))])

    assert (added, again, twice_in_one_call) == (3, 0, 1)
    assert store.minutes("USD", "2026-11-30T23:00", "2026-12-01T01:00") == [
        ("2026-11-30T23:59", SalesFigures(orders_paid=2, revenue=501, paid_value=501)),
        ("2026-12-01T00:00", SalesFigures(orders_paid=1, revenue=700, paid_value=700)),
    ]
    assert store.minutes("USD", "2026-12-01T00:00", "2026-12-01T00:00") == []  # [start, end): an empty range
    assert sorted(store.products("USD", "2026-11-30T00:00", "2026-12-02T00:00"), key=lambda p: (p.sku, p.quantity)) == [
        ProductSales("sku-a", 1, 500),
        ProductSales("sku-a", 2, 600),
        ProductSales("sku-b", 1, 100),
    ]
    assert store.minutes("EUR", "2026-12-01T00:00", "2026-12-01T00:01") == [
        ("2026-12-01T00:00", SalesFigures(orders_placed=1))
    ]
    assert store.clear() > 0
    assert store.minutes("USD", "2026-11-30T00:00", "2026-12-02T00:00") == []


def order(order_id: str, placed_at: str) -> Order:
    return Order(order_id, "c-1", "USD", "placed", (), 0, 0, 1, placed_at, placed_at)


def test_orders_are_listed_newest_first_across_days_a_page_at_a_time(tables: dict[str, str]) -> None:
    views = DynamoDBStateViews(
        boto3.client("dynamodb"),
        tables["ORDERS_TABLE_NAME"],
        key="order_id",
        codec=ORDER.state,
        feed_instant=lambda o: o.placed_at,
    )
    placed = {
        "o-1": "2026-11-29T10:00:00.000Z",
        "o-2": "2026-11-30T09:00:00.000Z",
        "o-3": "2026-12-01T08:00:00.000Z",
        "o-4": "2026-12-01T08:30:00.000Z",
    }
    for order_id, at in placed.items():
        assert views.put_if_newer(order_id, 1, order(order_id, at))

    first, cursor = views.newest(limit=3, cursor=None, today=date(2026, 12, 1))
    assert [o.order_id for o in first] == ["o-4", "o-3", "o-2"]
    assert cursor is not None
    second, cursor = views.newest(limit=3, cursor=cursor, today=date(2026, 12, 1))
    assert [o.order_id for o in second] == ["o-1"]
    assert cursor is None
    assert views.page(limit=10, cursor=None)[0][0].customer_id == "c-1"  # the feed attributes stay out of the state
    with pytest.raises(ValueError, match="not a cursor"):
        views.newest(limit=3, cursor="garbage", today=date(2026, 12, 1))
