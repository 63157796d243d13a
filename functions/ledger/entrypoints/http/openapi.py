"""The OpenAPI 3.1 document, built from the operations (operations.py, order_operations.py, analytics_operations.py)
and the schemas (schemas.py, order_schemas.py, analytics_schemas.py).

Tests check that these operations, the routes each function registers and the routes of the topology
(infra/topology.py) are the same set, so the document cannot drift from what is deployed.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

from ledger.entrypoints.http import analytics_schemas, order_schemas, schemas
from ledger.entrypoints.http.analytics_operations import ANALYTICS_OPERATIONS
from ledger.entrypoints.http.operations import ACCOUNT_OPERATIONS, OPS_OPERATIONS, Operation
from ledger.entrypoints.http.order_operations import ORDER_OPERATIONS

OPERATIONS: Final = (*ACCOUNT_OPERATIONS, *ORDER_OPERATIONS, *ANALYTICS_OPERATIONS, *OPS_OPERATIONS)
COMPONENTS: Final = {**schemas.COMPONENTS, **order_schemas.COMPONENTS, **analytics_schemas.COMPONENTS}
# Each path parameter, wherever it appears.
PATH_PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "account_id": schemas.ID,
    "order_id": schemas.ID,
    "shipment_id": {**schemas.ID, "description": "Its order's id (an order has at most one shipment)."},
    "sku": order_schemas.SKU,
    "date": schemas.REPORT_DATE,
}
# The responses that carry an aggregate's state, with its version as ETag.
_STATES: Final = frozenset({"AccountState", "OrderState", "StockState", "ShipmentState"})

_ERROR_DESCRIPTIONS: Final = {
    400: "Malformed JSON (invalid_json)",
    404: "What the request names does not exist: an aggregate (account_not_found, order_not_found, stock_not_found, "
    "shipment_not_found), a version (version_not_found) or a route (not_found)",
    409: "Refused by the aggregate's rules in its current state, an id already taken, or a lost race (e.g. "
    "insufficient_funds, account_closed, order_empty, overpayment, order_not_open, order_shipped, payment_recorded, "
    "shipment_not_ready, account_exists, order_exists, concurrency_conflict)",
    412: "If-Match does not name the current version (precondition_failed)",
    413: "Body over 64 KiB (payload_too_large)",
    422: "Invalid body, parameters or headers (validation_error, idempotency_key_reused)",
}


def operations_of(function: str) -> list[Operation]:
    return [operation for operation in OPERATIONS if operation.function == function]


def powertools_path(path: str) -> str:
    """/accounts/{account_id} -> /accounts/<account_id> (Powertools' route syntax)."""
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ledger API",
            "version": "1.1.0",
            "description": "Event-sourced aggregates (accounts, orders, stock per sku, shipments): every change is an "
            "event, every state is replayed from them. Every POST takes Idempotency-Key and If-Match and answers the "
            'aggregate\'s state with ETag: "<version>"; refused, it writes nothing. Money is in integer minor units '
            '(cents). Every error is {"error": {"code", "message", "details"?}}.',
        },
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        },
        "security": [{"sigv4": []}],
    }


def _operation(operation: Operation) -> dict[str, Any]:
    status, description, schema = operation.success
    success: dict[str, Any] = {"description": description}
    if schema is not None:
        success["content"] = {operation.media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    elif operation.media_type != "application/json":
        success["content"] = {operation.media_type: {"schema": {"type": "string"}}}
    if schema in _STATES:
        success["headers"] = {"ETag": {"description": 'The version, e.g. "3"', "schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(status): success}
    for code in operation.errors:
        responses[str(code)] = {
            "description": _ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": list(operation.tags),
        "parameters": _parameters(operation),
        "responses": responses,
    }
    if operation.request is not None:
        spec["requestBody"] = {
            "required": operation.request != "EmptyBody",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{operation.request}"}}},
        }
    return spec


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in re.findall(r"\{(\w+)\}", operation.path)
    ]
    for name, schema in (operation.query or {}).get("properties", {}).items():
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    for header in operation.headers:
        parameters.append({"name": header, "in": "header", "required": False, "schema": {"type": "string"}})
    return parameters
