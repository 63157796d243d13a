"""JSON Schemas of the HTTP API: they validate requests (validation.py) and document them (openapi.py)."""

from __future__ import annotations

from typing import Any, Final

from ledger.domain.money import MAX_AMOUNT

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_NO_CONTROL_CHARACTERS: Final = r"^[^\x00-\x1f\x7f]*$"

ID: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": ID_PATTERN,
    "x-pattern-message": "must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit",
    "description": "Chosen by the client, or generated (a UUID) when left out.",
}
AMOUNT: Final[dict[str, Any]] = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_AMOUNT,
    "description": "Minor units of the currency (cents for USD).",
}
CURRENCY: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": "^[A-Z]{3}$",
    "x-pattern-message": "must be an ISO-4217 code such as USD",
}
VISIBLE_TEXT: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
    "x-pattern-message": "must contain a visible character and no control characters",
}
DESCRIPTION: Final[dict[str, Any]] = {
    "type": ["string", "null"],
    "maxLength": 500,
    "pattern": _NO_CONTROL_CHARACTERS,
    "x-pattern-message": "must not contain control characters",
}

OPEN_ACCOUNT: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["owner"],
    "properties": {
        "owner": VISIBLE_TEXT,
        "currency": {**CURRENCY, "default": "USD"},
        "initial_balance": {**AMOUNT, "minimum": 0, "default": 0},
        "account_id": ID,
    },
}
MONEY_MOVEMENT: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount"],
    "properties": {"amount": AMOUNT, "description": DESCRIPTION},
}
# The body of a command that takes no values (close, cancel, dispatch, deliver): empty, or {}.
EMPTY_BODY: Final[dict[str, Any]] = {"type": "object", "additionalProperties": False, "properties": {}}

STATE_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1, "description": "The state right after this version."},
        "as_of": {
            "type": "string",
            "maxLength": 64,
            "description": "An ISO-8601 instant with a UTC offset: the state at that instant.",
        },
    },
}
EVENTS_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "after": {"type": "integer", "minimum": 0, "default": 0, "description": "Events after this version."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    },
}


def page_query(default_limit: int) -> dict[str, Any]:
    """The query of a read model's list: a page of at most `limit` rows, from `cursor` (a page's `next_cursor`)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": default_limit},
            "cursor": {"type": "string", "minLength": 1, "maxLength": 512, "description": "`next_cursor` of a page"},
        },
    }


ACCOUNTS_QUERY: Final = page_query(50)
PAGE_QUERY: Final = page_query(20)  # the other read models' lists
NO_QUERY: Final[dict[str, Any]] = {"type": "object", "additionalProperties": False}
ALERTS_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "account_id": ID,
        "order_id": ID,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
}
REPORT_DATE: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "x-pattern-message": "must be a date as YYYY-MM-DD",
    "description": "A UTC date.",
}

ACCOUNT_STATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["account_id", "owner", "currency", "balance", "status", "version", "opened_at", "updated_at"],
    "properties": {
        "account_id": {"type": "string"},
        "owner": {"type": "string"},
        "currency": {"type": "string"},
        "balance": {"type": "integer", "description": "Minor units."},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "version": {"type": "integer"},
        "opened_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["event_id", "type", "version", "occurred_at", "schema_version", "data", "metadata"],
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "version": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "schema_version": {"type": "integer"},
        "data": {"type": "object"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
EVENTS_PAGE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["events", "next_after"],
    "properties": {
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        "next_after": {"type": ["integer", "null"], "description": "Pass as `after` for the next page."},
    },
}
ACCOUNTS_PAGE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["accounts", "next_cursor"],
    "properties": {
        "accounts": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/AccountState"},
            "description": "From the read model: each carries its version, so a client can tell how fresh it is.",
        },
        "next_cursor": {"type": ["string", "null"]},
    },
}
ALERT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["alert_id", "rule", "severity", "account_id", "amount", "event_ids", "raised_at", "description"],
    "properties": {
        "alert_id": {"type": "string", "format": "uuid"},
        "rule": {
            "type": "string",
            "enum": ["large_transaction", "high_velocity", "large_order", "order_velocity", "payment_anomaly"],
        },
        "severity": {"type": "string", "enum": ["low", "medium", "high"]},
        "account_id": {"type": ["string", "null"], "description": "The account of an account alert (else null)"},
        "amount": {"type": "integer", "description": "Minor units"},
        "event_ids": {"type": "array", "items": {"type": "string"}},
        "raised_at": {"type": "string", "format": "date-time", "description": "The triggering event's time"},
        "description": {"type": "string"},
        "order_id": {"type": "string", "description": "The order of an order alert"},
        "customer_id": {"type": "string", "description": "The customer of an order alert"},
        "currency": {"type": "string", "description": "The amount's currency (order alerts)"},
    },
}
ALERTS_PAGE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["alerts"],
    "properties": {"alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}},
}
_COUNT_AND_TOTAL: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["count", "total"],
    "properties": {"count": {"type": "integer"}, "total": {"type": "integer", "description": "Minor units"}},
}
DAILY_REPORT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["date", "account_id", "deposits", "withdrawals", "net", "accounts_opened"],
    "properties": {
        "date": {"type": "string", "format": "date"},
        "account_id": {"type": ["string", "null"], "description": "null: every account"},
        "deposits": _COUNT_AND_TOTAL,
        "withdrawals": _COUNT_AND_TOTAL,
        "net": {"type": "integer", "description": "Deposits minus withdrawals, minor units"},
        "accounts_opened": {"type": "integer"},
    },
}
ERROR: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
HEALTH: Final[dict[str, Any]] = {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}}

COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "AccountState": ACCOUNT_STATE,
    "Event": EVENT,
    "EventsPage": EVENTS_PAGE,
    "Error": ERROR,
    "Health": HEALTH,
    "AccountsPage": ACCOUNTS_PAGE,
    "Alert": ALERT,
    "AlertsPage": ALERTS_PAGE,
    "DailyReport": DAILY_REPORT,
    "OpenAccount": OPEN_ACCOUNT,
    "MoneyMovement": MONEY_MOVEMENT,
    "EmptyBody": EMPTY_BODY,
}
