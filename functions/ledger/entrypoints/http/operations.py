"""The API's operations as data (openapi.py builds the document from them): the Operation type, and the account,
read-model and ops operations (order_operations.py has the orders, inventory and shipments ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ledger.entrypoints.http.schemas import ACCOUNTS_QUERY, ALERTS_QUERY, EVENTS_QUERY, STATE_QUERY


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
    media_type: str = "application/json"  # of the success response


COMMAND_HEADERS: Final = ("Idempotency-Key", "If-Match", "X-Correlation-Id")
CREATE_HEADERS: Final = ("Idempotency-Key", "X-Correlation-Id")
COMMAND_ERRORS: Final = (400, 404, 409, 412, 413, 422)

ACCOUNT_OPERATIONS: Final = (
    Operation(
        "POST",
        "/accounts",
        "commands",
        "openAccount",
        "Open an account",
        (201, "The account was opened", "AccountState"),
        (400, 409, 413, 422),
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
        COMMAND_ERRORS,
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
        COMMAND_ERRORS,
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
        COMMAND_ERRORS,
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
)
OPS_OPERATIONS: Final = (
    Operation(
        "GET", "/health", "queries", "health", "Liveness", (200, "The function answers", "Health"), tags=("ops",)
    ),
    Operation("GET", "/openapi.json", "queries", "openapi", "This document", (200, "OpenAPI 3.1", None), tags=("ops",)),
)
