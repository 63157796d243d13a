"""The read routes of orders, inventory and shipments: a Router the query function includes. States and histories
are replayed from the event store; the lists come from the read models (eventually consistent: each row carries
the version it reflects)."""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ledger import bootstrap
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.components import ORDER_VIEWS, STOCK_VIEWS
from ledger.entrypoints.http import order_schemas, schemas
from ledger.entrypoints.http.aggregate_routes import read_history, read_state
from ledger.entrypoints.http.requests import path_id
from ledger.entrypoints.http.resources import ORDER_RESOURCE, SHIPMENT_RESOURCE, STOCK_RESOURCE, order_body, stock_body
from ledger.entrypoints.http.responses import page_response, state_response
from ledger.entrypoints.http.validation import read_query

logger = Logger(child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
SHIPMENTS = bootstrap.reader(SHIPMENT)
ORDERS = bootstrap.reader(ORDER)
PARTS: Final = (ORDERS, bootstrap.reader(STOCK), SHIPMENTS, ORDER_VIEWS, STOCK_VIEWS)


@router.get("/orders")
def list_orders() -> Response[str]:
    query = read_query(router.current_event.raw_event, schemas.PAGE_QUERY)
    views = bootstrap.get(ORDER_VIEWS)
    return page_response(
        "orders", order_body, lambda: views.newest(limit=query.get("limit", 20), cursor=query.get("cursor"))
    )


@router.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[str]:
    return read_state(router, ORDER_RESOURCE, _order(order_id))


@router.get("/orders/<order_id>/events")
def list_order_events(order_id: str) -> Response[str]:
    return read_history(router, ORDER, _order(order_id))


@router.get("/orders/<order_id>/shipment")
def get_shipment(order_id: str) -> Response[str]:
    """The order's shipment (its id is the order's): 404 order_not_found when there is no such order, else 404
    shipment_not_found until shipping has requested it."""
    order = _order(order_id)
    read_query(router.current_event.raw_event, schemas.NO_QUERY)
    try:
        read = bootstrap.get(SHIPMENTS).read(order)
    except SHIPMENT.not_found:
        if not bootstrap.get(ORDERS).exists(order):
            raise ORDER.not_found_error(order) from None
        raise SHIPMENT.not_found(f"Order {order!r} has no shipment yet.") from None
    return state_response(SHIPMENT_RESOURCE.body(read.state), read.version)


@router.get("/inventory")
def list_stock() -> Response[str]:
    query = read_query(router.current_event.raw_event, schemas.PAGE_QUERY)
    views = bootstrap.get(STOCK_VIEWS)
    return page_response(
        "stock", stock_body, lambda: views.page(limit=query.get("limit", 20), cursor=query.get("cursor"))
    )


@router.get("/inventory/<sku>")
def get_stock(sku: str) -> Response[str]:
    return read_state(router, STOCK_RESOURCE, _path_id(sku, "sku", order_schemas.SKU))


def _order(raw: str) -> str:
    return _path_id(raw, "order_id")


def _path_id(raw: str, name: str, schema: dict[str, Any] = schemas.ID) -> str:
    return path_id(router.current_event.raw_event, raw, name, logger, schema=schema)
