"""JSON Schemas of the orders, inventory and shipments routes: requests (validated by validation.py) and responses
(documented by openapi.py). The limits are the domain's, so a request the schema lets through is refused, if at all,
by a business rule (409), never by a second, hidden limit."""

from __future__ import annotations

from typing import Any, Final

from ledger.domain.money import MAX_AMOUNT
from ledger.domain.orders import MAX_LINES, MAX_QUANTITY
from ledger.domain.stock import MAX_RESTOCK
from ledger.entrypoints.http.schemas import AMOUNT, CURRENCY, ID, VISIBLE_TEXT

SKU: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "x-pattern-message": "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    "description": "A stock-keeping unit.",
}
_QUANTITY: Final[dict[str, Any]] = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
_UNIT_PRICE: Final[dict[str, Any]] = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_AMOUNT,
    "description": "Minor units of the order's currency.",
}
_LINE_FIELDS: Final[dict[str, Any]] = {"sku": SKU, "quantity": _QUANTITY, "unit_price": _UNIT_PRICE}

ORDER_LINE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "quantity", "unit_price"],
    "properties": _LINE_FIELDS,
}
PLACE_ORDER: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["customer_id"],
    "properties": {
        "customer_id": VISIBLE_TEXT,
        "currency": {**CURRENCY, "default": "USD"},
        "order_id": ID,
        "items": {
            "type": "array",
            "maxItems": MAX_LINES,
            "items": ORDER_LINE,
            "description": "The order's first lines (more can be added until it is paid).",
        },
    },
}
ADD_ITEM: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "quantity", "unit_price"],
    "properties": {
        **_LINE_FIELDS,
        "currency": {**CURRENCY, "description": "When given, it must be the order's."},
    },
}
RECEIVE_PAYMENT: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount"],
    "properties": {
        "amount": {**AMOUNT, "description": "Minor units of the order's currency; at most what is due."},
        "payment_id": {**ID, "description": "Taken once per order: chosen by the client, or a UUID when left out."},
        "method": {
            "type": "string",
            "pattern": "^[a-z0-9_-]{1,32}$",
            "x-pattern-message": "must be 1 to 32 lowercase letters, digits, '_' or '-'",
            "default": "card",
        },
        "currency": {**CURRENCY, "description": "When given, it must be the order's."},
    },
}
RESTOCK: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["quantity"],
    "properties": {"quantity": {"type": "integer", "minimum": 1, "maximum": MAX_RESTOCK}},
}

_INSTANT: Final[dict[str, Any]] = {"type": "string", "format": "date-time"}
ORDER_STATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": [
        "order_id",
        "customer_id",
        "currency",
        "status",
        "items",
        "total",
        "paid",
        "version",
        "placed_at",
        "updated_at",
        "shipment_id",
    ],
    "properties": {
        "order_id": {"type": "string"},
        "customer_id": {"type": "string"},
        "currency": {"type": "string"},
        "status": {"type": "string", "enum": ["placed", "paid", "shipped", "delivered", "cancelled"]},
        "items": {
            "type": "array",
            "description": "In line order.",
            "items": {
                "type": "object",
                "required": ["sku", "quantity", "unit_price", "backordered"],
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "integer", "description": "Minor units."},
                    "backordered": {"type": "integer", "description": "How much of the line waits for stock."},
                },
            },
        },
        "total": {"type": "integer", "description": "Minor units."},
        "paid": {"type": "integer", "description": "Minor units (less any refund)."},
        "version": {"type": "integer"},
        "placed_at": _INSTANT,
        "updated_at": _INSTANT,
        "shipment_id": {"type": ["string", "null"], "description": "Set once the order has shipped."},
    },
}
STOCK_STATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["sku", "on_hand", "reserved", "available", "backordered", "version"],
    "properties": {
        "sku": {"type": "string"},
        "on_hand": {"type": "integer", "description": "In the warehouse."},
        "reserved": {"type": "integer", "description": "Of what is on hand, held for order lines."},
        "available": {"type": "integer", "description": "On hand and not reserved."},
        "backordered": {"type": "integer", "description": "Waiting for stock to arrive."},
        "version": {"type": "integer"},
    },
}
SHIPMENT_STATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["shipment_id", "order_id", "status", "items", "version", "requested_at", "updated_at"],
    "properties": {
        "shipment_id": {"type": "string", "description": "Its order's id."},
        "order_id": {"type": "string"},
        "status": {"type": "string", "enum": ["requested", "dispatched", "delivered", "cancelled"]},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"}},
            },
        },
        "version": {"type": "integer"},
        "requested_at": _INSTANT,
        "updated_at": _INSTANT,
    },
}


def _page(name: str, state: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [name, "next_cursor"],
        "properties": {
            name: {"type": "array", "items": {"$ref": f"#/components/schemas/{state}"}, "description": description},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page."},
        },
    }


ORDERS_PAGE: Final = _page("orders", "OrderState", "From the read model, newest first, each with its version.")
STOCK_PAGE: Final = _page("stock", "StockState", "From the read model, each with its version.")

COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "OrderState": ORDER_STATE,
    "OrdersPage": ORDERS_PAGE,
    "StockState": STOCK_STATE,
    "StockPage": STOCK_PAGE,
    "ShipmentState": SHIPMENT_STATE,
    "PlaceOrder": PLACE_ORDER,
    "AddItem": ADD_ITEM,
    "ReceivePayment": RECEIVE_PAYMENT,
    "Restock": RESTOCK,
}
