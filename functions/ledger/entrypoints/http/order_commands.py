"""The command routes of orders, inventory and shipments: a Router the command function includes."""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ledger import bootstrap
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.domain.money import DEFAULT_CURRENCY
from ledger.domain.orders import AddItem, CancelOrder, Line, PlaceOrder, ReceivePayment
from ledger.domain.shipments import DeliverShipment, DispatchShipment
from ledger.domain.stock import Restock
from ledger.entrypoints.http import order_schemas, schemas
from ledger.entrypoints.http.aggregate_routes import run_command
from ledger.entrypoints.http.requests import path_id
from ledger.entrypoints.http.resources import ORDER_RESOURCE, SHIPMENT_RESOURCE, STOCK_RESOURCE
from ledger.entrypoints.http.validation import read_json_body

logger = Logger(child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
ORDERS = bootstrap.command_service(ORDER)
SERVICES: Final = (ORDERS, bootstrap.command_service(STOCK), bootstrap.command_service(SHIPMENT))


@router.post("/orders")
def place_order() -> Response[str]:
    body = _body(order_schemas.PLACE_ORDER)
    command = PlaceOrder(
        order_id=body.get("order_id") or bootstrap.get(ORDERS).new_id(),
        customer_id=body["customer_id"],
        currency=body.get("currency", DEFAULT_CURRENCY),
        items=tuple(_line(item) for item in body.get("items", [])),
    )
    return run_command(router, ORDER_RESOURCE, command, body)


@router.post("/orders/<order_id>/items")
def add_item(order_id: str) -> Response[str]:
    body = _body(order_schemas.ADD_ITEM)
    command = AddItem(_order(order_id), _line(body), body.get("currency"))
    return run_command(router, ORDER_RESOURCE, command, body)


@router.post("/orders/<order_id>/payments")
def receive_payment(order_id: str) -> Response[str]:
    body = _body(order_schemas.RECEIVE_PAYMENT)
    command = ReceivePayment(
        order_id=_order(order_id),
        payment_id=body.get("payment_id") or bootstrap.get(ORDERS).new_id(),
        amount=body["amount"],
        method=body.get("method", "card"),
        currency=body.get("currency"),
    )
    return run_command(router, ORDER_RESOURCE, command, body)


@router.post("/orders/<order_id>/cancel")
def cancel_order(order_id: str) -> Response[str]:
    body = _body(schemas.EMPTY_BODY, optional=True)
    return run_command(router, ORDER_RESOURCE, CancelOrder(_order(order_id)), body)


@router.post("/inventory/<sku>/restocks")
def restock(sku: str) -> Response[str]:
    body = _body(order_schemas.RESTOCK)
    command = Restock(_path_id(sku, "sku", order_schemas.SKU), body["quantity"])
    return run_command(router, STOCK_RESOURCE, command, body)


@router.post("/shipments/<shipment_id>/dispatch")
def dispatch_shipment(shipment_id: str) -> Response[str]:
    body = _body(schemas.EMPTY_BODY, optional=True)
    return run_command(router, SHIPMENT_RESOURCE, DispatchShipment(_shipment(shipment_id)), body)


@router.post("/shipments/<shipment_id>/deliver")
def deliver_shipment(shipment_id: str) -> Response[str]:
    body = _body(schemas.EMPTY_BODY, optional=True)
    return run_command(router, SHIPMENT_RESOURCE, DeliverShipment(_shipment(shipment_id)), body)


def _body(schema: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return read_json_body(router.current_event.raw_event, schema, optional=optional)


def _line(fields: dict[str, Any]) -> Line:
    return Line(sku=fields["sku"], quantity=fields["quantity"], unit_price=fields["unit_price"])


def _order(raw: str) -> str:
    return _path_id(raw, "order_id")


def _shipment(raw: str) -> str:
    return _path_id(raw, "shipment_id")


def _path_id(raw: str, name: str, schema: dict[str, Any] = schemas.ID) -> str:
    return path_id(router.current_event.raw_event, raw, name, logger, schema=schema)
