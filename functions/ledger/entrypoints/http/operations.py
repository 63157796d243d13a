"""The API's operations as data (openapi.py builds the document from them): the Operation type, and the account,
read-model and ops operations (order_operations.py has the orders, inventory and shipments ones)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ledger.entrypoints.http.schemas import ACCOUNTS_QUERY, ALERTS_QUERY, EVENTS_QUERY, NO_QUERY, STATE_QUERY

Errors = Mapping[int, tuple[str, ...]]  # status -> every error code the function answers with it


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # API Gateway syntax: /accounts/{account_id}
    function: str  # which Lambda serves it
    operation_id: str
    summary: str
    success: tuple[int, str, str | None]  # status, description, response schema component
    errors: Errors = field(default_factory=dict)  # API Gateway's own answers are added by openapi.py
    request: str | None = None  # request body schema component
    query: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=("accounts",))
    media_type: str = "application/json"  # of the success response


COMMAND_HEADERS: Final = ("Idempotency-Key", "If-Match", "X-Correlation-Id")
CREATE_HEADERS: Final = ("Idempotency-Key", "X-Correlation-Id")


def errors(*parts: Errors) -> dict[int, tuple[str, ...]]:
    """The codes of `parts` merged status by status, in the order given."""
    merged: dict[int, tuple[str, ...]] = {}
    for part in parts:
        for status, codes in part.items():
            merged[status] = tuple(dict.fromkeys((*merged.get(status, ()), *codes)))
    return dict(sorted(merged.items()))


def not_found(*codes: str) -> Errors:
    return {404: codes}


def conflicts(*codes: str) -> Errors:
    """Refusals by the aggregate's rules (409), before the lost race every command can end in."""
    return {409: (*codes, "concurrency_conflict")}


INVALID: Final[Errors] = {422: ("validation_error",)}  # a parameter (query, path, header) the schema refuses
# What any command's request can be refused with before its aggregate is consulted.
COMMAND: Final = errors(
    {400: ("invalid_json",), 413: ("payload_too_large",)}, INVALID, {422: ("idempotency_key_reused",)}
)
IF_MATCH: Final[Errors] = {412: ("precondition_failed",)}

ACCOUNT_OPERATIONS: Final = (
    Operation(
        "POST",
        "/accounts",
        "commands",
        "openAccount",
        "Open an account",
        (201, "The account was opened", "AccountState"),
        errors(COMMAND, IF_MATCH, conflicts("account_exists")),  # 412: an If-Match sent anyway is honoured
        request="OpenAccount",
        headers=CREATE_HEADERS,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/deposits",
        "commands",
        "depositMoney",
        "Deposit money",
        (200, "The new state", "AccountState"),
        errors(
            COMMAND, IF_MATCH, not_found("account_not_found"), conflicts("account_closed", "balance_limit_exceeded")
        ),
        request="MoneyMovement",
        headers=COMMAND_HEADERS,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/withdrawals",
        "commands",
        "withdrawMoney",
        "Withdraw money",
        (200, "The new state", "AccountState"),
        errors(COMMAND, IF_MATCH, not_found("account_not_found"), conflicts("account_closed", "insufficient_funds")),
        request="MoneyMovement",
        headers=COMMAND_HEADERS,
    ),
    Operation(
        "POST",
        "/accounts/{account_id}/close",
        "commands",
        "closeAccount",
        "Close an account with a zero balance",
        (200, "The closed account", "AccountState"),
        errors(COMMAND, IF_MATCH, not_found("account_not_found"), conflicts("account_closed", "balance_not_zero")),
        request="EmptyBody",
        headers=COMMAND_HEADERS,
    ),
    Operation(
        "GET",
        "/accounts/{account_id}",
        "queries",
        "getAccount",
        "The account's state: current, at a version, or at an instant",
        (200, "The state, replayed from the event store", "AccountState"),
        errors(not_found("account_not_found", "version_not_found"), INVALID),
        query=STATE_QUERY,
    ),
    Operation(
        "GET",
        "/accounts/{account_id}/events",
        "queries",
        "listAccountEvents",
        "The account's events, in order",
        (200, "A page of events", "EventsPage"),
        errors(not_found("account_not_found"), INVALID),
        query=EVENTS_QUERY,
    ),
    Operation(
        "GET",
        "/accounts",
        "queries",
        "listAccounts",
        "Accounts from the read model, a page at a time",
        (200, "A page of accounts", "AccountsPage"),
        INVALID,
        query=ACCOUNTS_QUERY,
        tags=("read models",),
    ),
    Operation(
        "GET",
        "/alerts",
        "queries",
        "listAlerts",
        "Fraud alerts, newest first, a page at a time: all, an account's or an order's",
        (200, "A page of alerts", "AlertsPage"),
        INVALID,
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
        INVALID,
        query=NO_QUERY,
        tags=("read models",),
    ),
    Operation(
        "GET",
        "/accounts/{account_id}/reports/daily/{date}",
        "queries",
        "accountDailyReport",
        "One account's totals for a day",
        (200, "Totals (zeros for a day with no activity)", "DailyReport"),
        errors(not_found("account_not_found"), INVALID),
        query=NO_QUERY,
        tags=("read models",),
    ),
)
OPS_OPERATIONS: Final = (
    Operation(
        "GET", "/health", "queries", "health", "Liveness", (200, "The function answers", "Health"), tags=("ops",)
    ),
    Operation("GET", "/openapi.json", "queries", "openapi", "This document", (200, "OpenAPI 3.1", None), tags=("ops",)),
    Operation(
        "GET",
        "/docs",
        "queries",
        "docs",
        "This document in Swagger UI: one self-contained HTML page (the UI and the document inline; nothing is "
        "loaded from elsewhere)",
        (200, "The page", None),
        tags=("ops",),
        media_type="text/html",
    ),
)
