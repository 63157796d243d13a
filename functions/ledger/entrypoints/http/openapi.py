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

_STATUS_MEANINGS: Final = {
    400: "The body is not JSON (or not UTF-8, or base64 that does not decode)",
    404: "What the request names does not exist (an aggregate, or a version of it)",
    409: "Refused by the aggregate's rules in its current state, an id already taken, or a race lost again and "
    "again (concurrency_conflict: send it again)",
    412: "If-Match does not name the current version",
    413: "The body is over 64 KiB",
    422: "A value the API refuses, each named in details (validation_error), or an Idempotency-Key sent before with "
    "another body (idempotency_key_reused)",
}
_CORRELATION_HEADER: Final = {
    "X-Correlation-Id": {
        "description": "The request's X-Correlation-Id when it was a sane token, else the request id",
        "required": True,
        "schema": {"type": "string"},
    }
}
# What API Gateway itself may answer for any route, whatever the function would (components.responses).
_GATEWAY_RESPONSES: Final[dict[str, dict[str, Any]]] = {
    "Unsigned": {
        "description": "API Gateway (deployed only): the request is not signed with SigV4, the signature is wrong, "
        "or the caller's IAM policy does not allow execute-api:Invoke on this route. No function ran.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}},
    },
    "Throttled": {
        "description": "API Gateway (deployed only): over the stage's request rate or burst, which every caller "
        "shares. Retry later, with backoff.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}},
    },
    "Unavailable": {
        "description": "API Gateway (deployed only): the function could not answer in time (30 s) or at all.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}},
    },
}
_SECURITY_SCHEME: Final = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "x-amazon-apigateway-authtype": "awsSigv4",
    "description": "AWS Signature Version 4 (service execute-api, the stack's region): API Gateway's IAM "
    "authorization checks the signature (Authorization, X-Amz-Date and, with temporary credentials, "
    "X-Amz-Security-Token) and that the caller's IAM policy allows execute-api:Invoke on the route, before any "
    "function runs; otherwise it answers 403 itself. Every route requires it when deployed, /health, /openapi.json "
    "and /docs included: no anonymous request reaches a function or spends the stage's throttle, which every caller "
    "shares, and API Gateway and Lambda are watched through CloudWatch, not through an open /health. Sign with any "
    "SigV4 client (botocore's SigV4Auth, awscurl, Postman). The local runtime (make run) checks nothing: it accepts "
    "any request, signed or not, and records the caller as anonymous.",
}
_DESCRIPTION: Final = (
    "Event-sourced aggregates (accounts, orders, stock per sku, shipments): every change is an event, every state "
    "is replayed from them. Every POST takes Idempotency-Key and If-Match and answers the aggregate's state with "
    'ETag: "<version>"; refused, it writes nothing. Money is in integer minor units (cents).\n\n'
    'Every error the functions answer is {"error": {"code", "message", "details"?}}: each operation lists every '
    "code it can answer, by status (a code is what a client branches on; the message is for people). API Gateway's "
    'own answers are {"message"} (403 unsigned, 413 over 10 MB, 429 throttled, 500/503). A path of the API with '
    "another method answers 405 method_not_allowed with Allow (e.g. DELETE /accounts/{account_id}: Allow: GET); an "
    "unknown path 404 not_found.\n\n"
    "Limits are in the schemas: patterns, lengths, integer bounds (query integers are digits only, at most 18), "
    "array sizes. What a schema cannot say is in the descriptions: version or as_of, not both; account_id or "
    "order_id on /alerts, not both; a cursor must be one the API gave out; dates and instants must exist in the "
    "calendar (the patterns admit only those); the sales report's range limits. Each is refused with 422 "
    "validation_error naming the parameter. Path parameters are percent-decoded once (%2D is -) before they are "
    "checked. Unknown query parameters and body fields are refused."
)


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
        "info": {"title": "Ledger API", "version": "1.2.0", "description": _DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "responses": _GATEWAY_RESPONSES,
            "securitySchemes": {"sigv4": _SECURITY_SCHEME},
        },
        "security": [{"sigv4": []}],
    }


def _operation(operation: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": list(operation.tags),
        "parameters": _parameters(operation),
        "responses": _responses(operation),
    }
    if operation.request is not None:
        spec["requestBody"] = {
            "required": operation.request != "EmptyBody",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{operation.request}"}}},
        }
    return spec


def _responses(operation: Operation) -> dict[str, Any]:
    status, description, schema = operation.success
    success: dict[str, Any] = {"description": description, "headers": dict(_CORRELATION_HEADER)}
    if schema is not None:
        success["content"] = {operation.media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    else:  # a document of its own kind (this one), or a page
        kind = "object" if operation.media_type == "application/json" else "string"
        success["content"] = {operation.media_type: {"schema": {"type": kind}}}
    if schema in _STATES:
        success["headers"]["ETag"] = {"description": 'The version, e.g. "3"', "required": True, "schema": _ETAG}
    if status == 201:
        success["headers"]["Location"] = {"description": "Where it lives", "required": True, "schema": _TEXT}
    if operation.method == "POST":
        success["headers"]["Idempotent-Replayed"] = {
            "description": "true when this is the first response to the same Idempotency-Key, replayed",
            "schema": {"type": "string", "enum": ["true"]},
        }
    responses: dict[str, Any] = {str(status): success}
    for code, codes in operation.errors.items():
        responses[str(code)] = _error_response(code, codes)
    responses["403"] = {"$ref": "#/components/responses/Unsigned"}
    responses["413"] = _with_gateway(
        responses.get("413"), "API Gateway: the request (any route) is over 10 MB", "payload_too_large"
    )
    responses["429"] = {"$ref": "#/components/responses/Throttled"}
    responses["500"] = _with_gateway(
        _error_response(500, ("internal_error",), "The function failed (logged with the request id it names)"),
        "API Gateway: the function failed or its answer was not one API Gateway can send",
        "internal_error",
    )
    responses["503"] = {"$ref": "#/components/responses/Unavailable"}
    return dict(sorted(responses.items()))


def _error_response(status: int, codes: tuple[str, ...], meaning: str | None = None) -> dict[str, Any]:
    return {
        "description": f"{meaning or _STATUS_MEANINGS[status]}: {', '.join(codes)}",
        "headers": dict(_CORRELATION_HEADER),
        "content": {"application/json": {"schema": schemas.error_schema(codes)}},
    }


def _with_gateway(function: dict[str, Any] | None, gateway: str, code: str) -> dict[str, Any]:
    """A status both the function (`function`'s response, if it answers it) and API Gateway may answer."""
    gateway_only = {"$ref": "#/components/schemas/GatewayError"}
    if function is None:
        return {"description": gateway, "content": {"application/json": {"schema": gateway_only}}}
    schema = function["content"]["application/json"]["schema"]
    return {
        "description": f'{function["description"]}; or, {gateway} ({{"message"}})',
        "content": {"application/json": {"schema": {"anyOf": [schema, gateway_only]}}},
    }


_ETAG: Final = {"type": "string", "pattern": '^"[0-9]+"$'}
_TEXT: Final = {"type": "string"}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in re.findall(r"\{(\w+)\}", operation.path)
    ]
    for name, schema in (operation.query or {}).get("properties", {}).items():
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    for header in operation.headers:
        parameters.append({"name": header, "in": "header", "required": False, "schema": schemas.HEADERS[header]})
    return parameters
