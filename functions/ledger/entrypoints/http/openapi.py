"""The API's operations as data, and the OpenAPI 3.1 document built from them and from schemas.py.

Tests check that these operations, the routes each function registers and the routes of the topology
(infra/topology.py) are the same set, so the document cannot drift from what is deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from ledger.entrypoints.http.schemas import (
    ACCOUNT_ID,
    ACCOUNTS_QUERY,
    ALERTS_QUERY,
    COMPONENTS,
    EVENTS_QUERY,
    REPORT_DATE,
    STATE_QUERY,
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # API Gateway syntax: /accounts/{account_id}
    function: str  # which Lambda serves it
    operation_id: str
    summary: str
    success: tuple[int, str, str | None]  # status, description, response schema component
    errors: tuple[int, ...] = ()
    request: str | None = None  # request body schema component
    query: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=("accounts",))


_COMMAND_HEADERS: Final = ("Idempotency-Key", "If-Match", "X-Correlation-Id")
_COMMAND_ERRORS: Final = (400, 404, 409, 412, 413, 422)

OPERATIONS: Final = (
    Operation(
        "POST",
        "/accounts",
        "commands",
        "openAccount",
        "Open an account",
        (201, "The account was opened", "AccountState"),
        (400, 409, 413, 422),
        request="OpenAccount",
        headers=("Idempotency-Key", "X-Correlation-Id"),
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/deposits",
        "commands",
        "depositMoney",
        "Deposit money",
        (200, "The new state", "AccountState"),
        _COMMAND_ERRORS,
        request="MoneyMovement",
        headers=_COMMAND_HEADERS,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/withdrawals",
        "commands",
        "withdrawMoney",
        "Withdraw money",
        (200, "The new state", "AccountState"),
        _COMMAND_ERRORS,
        request="MoneyMovement",
        headers=_COMMAND_HEADERS,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/close",
        "commands",
        "closeAccount",
        "Close an account with a zero balance",
        (200, "The closed account", "AccountState"),
        _COMMAND_ERRORS,
        request="CloseAccount",
        headers=_COMMAND_HEADERS,
    ),
    Operation(
        "GET",
        "/accounts/{account_id}",
        "queries",
        "getAccount",
        "The account's state: current, at a version, or at an instant",
        (200, "The state, replayed from the event store", "AccountState"),
        (404, 422),
        query=STATE_QUERY,
    ),
    Operation(
        "GET",
        "/accounts/{account_id}/events",
        "queries",
        "listAccountEvents",
        "The account's events, in order",
        (200, "A page of events", "EventsPage"),
        (404, 422),
        query=EVENTS_QUERY,
    ),
    Operation(
        "GET",
        "/accounts",
        "queries",
        "listAccounts",
        "Accounts from the read model, a page at a time",
        (200, "A page of accounts", "AccountsPage"),
        (422,),
        query=ACCOUNTS_QUERY,
        tags=("read models",),
    ),
    Operation(
        "GET",
        "/alerts",
        "queries",
        "listAlerts",
        "Fraud alerts, newest first",
        (200, "Alerts", "AlertsPage"),
        (422,),
        query=ALERTS_QUERY,
        tags=("read models",),
    ),
    Operation(
        "GET",
        "/reports/daily/{date}",
        "queries",
        "dailyReport",
        "The day's totals over every account",
        (200, "Totals (zeros for a day with no activity)", "DailyReport"),
        (422,),
        tags=("read models",),
    ),
    Operation(
        "GET",
        "/accounts/{account_id}/reports/daily/{date}",
        "queries",
        "accountDailyReport",
        "One account's totals for a day",
        (200, "Totals (zeros for a day with no activity)", "DailyReport"),
        (404, 422),
        tags=("read models",),
    ),
    Operation(
        "GET", "/health", "queries", "health", "Liveness", (200, "The function answers", "Health"), tags=("ops",)
    ),
    Operation("GET", "/openapi.json", "queries", "openapi", "This document", (200, "OpenAPI 3.1", None), tags=("ops",)),
)

_ERROR_DESCRIPTIONS: Final = {
    400: "Malformed JSON (invalid_json)",
    404: "Unknown account, version or route",
    409: "Refused by the account's rules or a lost race (insufficient_funds, account_closed, account_exists, "
    "concurrency_conflict, ...)",
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
            "version": "1.0.0",
            "description": "Event-sourced bank accounts. Money is in integer minor units (cents). Every error is "
            '{"error": {"code", "message", "details"?}}.',
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
        success["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    if schema == "AccountState":
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
            "required": operation.request != "CloseAccount",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{operation.request}"}}},
        }
    return spec


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if "{account_id}" in operation.path:
        parameters.append({"name": "account_id", "in": "path", "required": True, "schema": ACCOUNT_ID})
    if "{date}" in operation.path:
        parameters.append({"name": "date", "in": "path", "required": True, "schema": REPORT_DATE})
    for name, schema in (operation.query or {}).get("properties", {}).items():
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    for header in operation.headers:
        parameters.append({"name": header, "in": "header", "required": False, "schema": {"type": "string"}})
    return parameters
