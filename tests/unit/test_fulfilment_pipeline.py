"""Orders, stock and shipments through the real handlers (publisher, projector, inventory, shipping) over in-memory
stores: stock follows orders, one shipment per paid order, the order follows its shipment, and every effect happens
once however often a record is delivered."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from infra.topology import ORDER_STREAM
from ledger import bootstrap
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.domain.orders import AddItem, CancelOrder, Line, PlaceOrder, ReceivePayment
from ledger.domain.shipments import DeliverShipment, DispatchShipment
from ledger.domain.stock import Restock
from ledger.kernel.service import CommandService
from tests.ledger_fixtures import SERVICE_SETTINGS
from tests.unit.shop_support import CTX, Shop


@pytest.fixture(params=[1, 2], ids=["once", "twice"])
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    yield Shop(repeats=request.param, shuffle=random.Random(7) if request.param == 2 else None)
    bootstrap.reset()


def place(shop: Shop, order_id: str, *lines: Line) -> None:
    shop.run(ORDER, PlaceOrder(order_id, "cus-1", "USD", lines))


def test_items_reserve_stock_and_what_is_short_is_backordered_on_the_order(shop: Shop) -> None:
    shop.run(STOCK, Restock("sku-a", 3))
    place(shop, "o-1", Line("sku-a", 2, 500), Line("sku-b", 1, 900))
    shop.run(ORDER, AddItem("o-1", Line("sku-a", 4, 500)))
    shop.settle()

    a, b = shop.stock("sku-a"), shop.stock("sku-b")
    assert (a.on_hand, a.reserved, a.backordered) == (3, 3, 3)
    assert (b.on_hand, b.reserved, b.backordered) == (0, 0, 1)
    order = shop.order("o-1")
    assert [(i.sku, i.quantity, i.backordered) for i in order.items] == [
        ("sku-a", 2, 0),
        ("sku-b", 1, 1),
        ("sku-a", 4, 3),
    ]
    assert shop.orders_view.state("o-1") == order
    assert shop.stock_view.state("sku-a") == a

    shop.run(STOCK, Restock("sku-b", 5))
    shop.run(STOCK, Restock("sku-a", 1))
    shop.settle()
    assert [i.backordered for i in shop.order("o-1").items] == [0, 0, 2]


def test_a_paid_order_gets_one_shipment_and_follows_it_to_delivery(shop: Shop) -> None:
    shop.run(STOCK, Restock("sku-a", 10))
    place(shop, "o-1", Line("sku-a", 2, 500), Line("sku-a", 1, 500))
    shop.run(ORDER, ReceivePayment("o-1", "p-1", 1_000, "card"))
    shop.run(ORDER, ReceivePayment("o-1", "p-2", 500, "card"))
    shop.settle()

    assert shop.events("Shipment", "o-1") == ["ShipmentRequested"]
    shipment = CommandService(SHIPMENT, shop.store, SERVICE_SETTINGS)
    assert [(line.sku, line.quantity) for line in shipment.reader.get("o-1").items] == [("sku-a", 3)]
    shipment.execute(DispatchShipment("o-1"), CTX)
    shop.settle()
    assert shop.order("o-1").status == "shipped"
    stock = shop.stock("sku-a")
    assert (stock.on_hand, stock.reserved, stock.shipped, stock.received) == (7, 0, 3, 10)
    shipment.execute(DeliverShipment("o-1"), CTX)
    shop.settle()
    assert shop.order("o-1").status == "delivered"
    assert shop.events("Order", "o-1").count("OrderShipped") == 1


def test_a_cancelled_order_releases_its_stock_to_the_next_in_line_and_cancels_its_shipment(shop: Shop) -> None:
    shop.run(STOCK, Restock("sku-a", 2))
    place(shop, "o-1", Line("sku-a", 2, 500))
    place(shop, "o-2", Line("sku-a", 2, 500))
    shop.run(ORDER, ReceivePayment("o-1", "p-1", 1_000, "card"))
    shop.settle()
    assert [i.backordered for i in shop.order("o-2").items] == [2]

    shop.run(ORDER, CancelOrder("o-1"))
    shop.settle()

    stock = shop.stock("sku-a")
    assert (stock.on_hand, stock.reserved, stock.backordered) == (2, 2, 0)
    assert [(a.order_id, a.quantity) for a in stock.reservations] == [("o-2", 2)]
    assert [i.backordered for i in shop.order("o-2").items] == [0]
    assert shop.events("Shipment", "o-1") == ["ShipmentRequested", "ShipmentCancelled"]
    assert shop.events("Order", "o-1")[-2:] == ["OrderCancelled", "PaymentRefunded"]


def test_the_stock_invariants_hold_after_a_random_shop(shop: Shop) -> None:
    rng = random.Random(11)
    for sku in ("sku-a", "sku-b", "sku-c"):
        shop.run(STOCK, Restock(sku, rng.randint(1, 6)))
    for n in range(12):
        order_id = f"o-{n}"
        lines = tuple(Line(rng.choice(["sku-a", "sku-b", "sku-c"]), rng.randint(1, 3), 100) for _ in range(2))
        place(shop, order_id, *lines)
        if rng.random() < 0.6:
            shop.run(ORDER, ReceivePayment(order_id, "p", sum(line.quantity * 100 for line in lines), "card"))
        if rng.random() < 0.3:
            shop.run(ORDER, CancelOrder(order_id))
        if n % 4 == 0:
            shop.run(STOCK, Restock(rng.choice(["sku-a", "sku-b", "sku-c"]), rng.randint(1, 4)))
        shop.settle()
    shipments = CommandService(SHIPMENT, shop.store, SERVICE_SETTINGS)
    for n in range(0, 12, 3):
        shipment = shipments.reader.find(f"o-{n}")
        if shipment is not None and shipment.status == "requested":
            shipments.execute(DispatchShipment(f"o-{n}"), CTX)
    shop.settle()

    for sku in ("sku-a", "sku-b", "sku-c"):
        stock = shop.stock(sku)
        assert stock.received == stock.on_hand + stock.shipped
        open_orders = {o.order_id for o in (shop.order(f"o-{n}") for n in range(12)) if o.status in ("placed", "paid")}
        assert stock.reserved == sum(a.quantity for a in stock.reservations if a.order_id in open_orders)
        assert stock.reserved <= stock.on_hand
        assert shop.stock_view.state(sku) == stock
    paid = [o for o in (shop.order(f"o-{n}") for n in range(12)) if o.paid == o.total and o.status != "cancelled"]
    for order in paid:
        assert shop.events("Shipment", order.order_id).count("ShipmentRequested") == 1
    for n in range(12):
        assert shop.orders_view.state(f"o-{n}") == shop.order(f"o-{n}")
    messages = [json.loads(data) for _, data in shop.bus.streams[ORDER_STREAM.name]]
    assert {m["aggregate_type"] for m in messages} == {"Order", "Customer"}  # the orders stream's types
