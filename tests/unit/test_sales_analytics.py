"""Sales analytics from order events through the real handler: figures per minute equal the sums over the events,
each event counted once however often delivered, and a rebuild from the event store gives the same figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra.topology import ORDER_STREAM
from ledger import bootstrap
from ledger.adapters.memory_read_models import InMemorySalesStore
from ledger.application.orders import ORDER
from ledger.application.pipeline.analytics import sales_report
from ledger.components import SALES_STORE
from ledger.domain.orders import CancelOrder, Line, PlaceOrder, ReceivePayment
from ledger.domain.sales import ProductSales, SalesFigures
from ledger.entrypoints import analytics
from ledger.kernel.components import Root
from ledger.rebuild import rebuild
from tests.unit.pipeline_support import invoke, kinesis_event
from tests.unit.shop_support import Shop


@pytest.fixture(params=[1, 2], ids=["once", "twice"])
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    yield Shop(repeats=request.param)
    bootstrap.reset()


def test_figures_equal_the_sums_over_the_events_and_a_rebuild_gives_the_same(shop: Shop) -> None:
    shop.run(ORDER, PlaceOrder("o-1", "c-1", "USD", (Line("sku-a", 2, 1_000), Line("sku-b", 1, 500))))
    shop.run(ORDER, ReceivePayment("o-1", "p-1", 1_000, "card"))
    shop.run(ORDER, ReceivePayment("o-1", "p-2", 1_500, "card"))  # paid in full: 2,500
    shop.run(ORDER, PlaceOrder("o-2", "c-2", "USD", (Line("sku-a", 1, 1_000),)))
    shop.run(ORDER, ReceivePayment("o-2", "p-1", 1_000, "card"))
    shop.run(ORDER, CancelOrder("o-2"))  # refunds 1,000
    shop.run(ORDER, PlaceOrder("o-3", "c-3", "EUR", (Line("sku-c", 3, 100),)))
    shop.settle()

    now = datetime.now(UTC)
    report = sales_report(shop.sales, "USD", now - timedelta(hours=1), now + timedelta(minutes=1), bucket="minute")

    assert report.totals == SalesFigures(
        orders_placed=2, orders_paid=2, revenue=3_500, items_sold=4, paid_value=3_500, cancelled=1, refunds=1_000
    )
    assert report.totals.average_order_value == 1_750
    assert report.top_products == [ProductSales("sku-a", 3, 3_000), ProductSales("sku-b", 1, 500)]
    start, end = now - timedelta(hours=1), now + timedelta(minutes=1)
    assert (report.buckets[0].start, report.buckets[-1].start) == (f"{start:%Y-%m-%dT%H:%M}", f"{end:%Y-%m-%dT%H:%M}")
    assert sum((b.figures for b in report.buckets), SalesFigures()) == report.totals
    eur = sales_report(shop.sales, "EUR", now - timedelta(hours=1), now + timedelta(minutes=1), bucket="hour")
    assert eur.totals == SalesFigures(orders_placed=1)
    assert [b.start[-3:] for b in eur.buckets] == [":00", ":00"]

    rebuilt = InMemorySalesStore()
    fresh = Root().provide(bootstrap.EVENT_STORE, shop.store).provide(SALES_STORE, rebuilt)
    assert rebuild(["sales"], fresh) == {"sales": 8}  # the order events that move a figure
    assert rebuilt.minutes_ == shop.sales.minutes_
    assert rebuilt.products_ == shop.sales.products_


def test_an_event_delivered_twice_within_one_batch_counts_once(shop: Shop) -> None:
    shop.run(ORDER, PlaceOrder("o-1", "c-1", "USD", (Line("sku-a", 2, 1_000),)))
    shop.run(ORDER, ReceivePayment("o-1", "p-1", 2_000, "card"))
    shop.settle()
    once = dict(shop.sales.minutes_)
    messages = shop.bus.streams[ORDER_STREAM.name]
    assert invoke(analytics.lambda_handler, kinesis_event(messages + messages)) == []  # a producer's retry
    assert shop.sales.minutes_ == once
    assert sum(f.orders_paid for f in once.values()) == 1
