"""JSON Schemas of the sales report (GET /analytics/sales): its query (validation.py checks it) and its body
(openapi.py documents it)."""

from __future__ import annotations

from typing import Any, Final

from ledger.entrypoints.http.schemas import CURRENCY_CODE, INSTANT

_RANGE: Final = (
    "Instants from 1970-01-01T00:00:00Z to before 9999-01-01T00:00:00Z, from before to, at most 1,440 minute "
    "buckets or 744 hour buckets apart (422 naming from or to otherwise). "
)

SALES_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "from": {
            **INSTANT,
            "description": "The range's start. Default: an hour before `to`. " + _RANGE + INSTANT["description"],
        },
        "to": {
            **INSTANT,
            "description": "The range's end, after `from`. Default: now. " + _RANGE + INSTANT["description"],
        },
        "bucket": {
            "type": "string",
            "enum": ["minute", "hour"],
            "default": "minute",
            "description": "At most 1,440 minute buckets or 744 hour buckets.",
        },
        "currency": {**CURRENCY_CODE, "default": "USD", "description": "Figures of the orders in this currency."},
    },
}
# Read by the page's script; the function checks it too (422), so that a page never starts with a currency it
# cannot show. Other parameters are the page's own business.
DASHBOARD_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"currency": {**CURRENCY_CODE, "default": "USD", "description": "The currency the page shows"}},
}

_COUNT: Final[dict[str, Any]] = {"type": "integer", "minimum": 0}
_MINOR_UNITS: Final[dict[str, Any]] = {"type": "integer", "minimum": 0, "description": "Minor units of `currency`"}
_FIGURE_PROPERTIES: Final[dict[str, Any]] = {
    "orders_placed": {**_COUNT, "description": "Orders placed"},
    "orders_paid": {**_COUNT, "description": "Orders paid in full"},
    "revenue": {**_MINOR_UNITS, "description": "Payments received, minor units of `currency`"},
    "items_sold": {**_COUNT, "description": "Units on the orders paid in full"},
    "average_order_value": {
        **_MINOR_UNITS,
        "description": "The orders paid in full: their total over their number (0 when none), minor units",
    },
    "cancelled": {**_COUNT, "description": "Orders cancelled"},
}
SALES_BUCKET: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["start", *_FIGURE_PROPERTIES],
    "properties": {
        "start": {"type": "string", "format": "date-time", "description": "The minute or hour (UTC) it sums"},
        **_FIGURE_PROPERTIES,
    },
}
SALES_TOTALS: Final[dict[str, Any]] = {
    "type": "object",
    "required": [*_FIGURE_PROPERTIES, "refunds"],
    "properties": {
        **_FIGURE_PROPERTIES,
        "refunds": {**_MINOR_UNITS, "description": "Amounts refunded, minor units of `currency`"},
    },
}
PRODUCT_SALES: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["sku", "quantity", "revenue"],
    "properties": {
        "sku": {"type": "string"},
        "quantity": {**_COUNT, "description": "Units on the orders paid in full"},
        "revenue": {**_MINOR_UNITS, "description": "Those units at their unit prices, minor units"},
    },
}
SALES_REPORT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["currency", "bucket", "from", "to", "buckets", "totals", "top_products"],
    "properties": {
        "currency": {"type": "string"},
        "bucket": {"type": "string", "enum": ["minute", "hour"]},
        "from": {
            "type": "string",
            "format": "date-time",
            "description": "The first minute counted: `from` of the query, down to its minute (UTC)",
        },
        "to": {
            "type": "string",
            "format": "date-time",
            "description": "The end of the last minute counted: `to` of the query, up to a whole minute (UTC)",
        },
        "buckets": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/SalesBucket"},
            "description": "Every bucket of the range, oldest first, zeros included; the first hour bucket may start "
            "before `from` (it counts the minutes from `from` on)",
        },
        "totals": {"$ref": "#/components/schemas/SalesTotals"},
        "top_products": {
            "type": "array",
            "maxItems": 5,
            "items": {"$ref": "#/components/schemas/ProductSales"},
            "description": "The best sellers of the range by units, then revenue, then sku",
        },
    },
}

COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "SalesReport": SALES_REPORT,
    "SalesBucket": SALES_BUCKET,
    "SalesTotals": SALES_TOTALS,
    "ProductSales": PRODUCT_SALES,
}
