"""JSON Schemas of the HTTP API: they validate requests (validation.py) and document them (openapi.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ledger.domain.money import ISO_4217_CURRENCIES, MAX_AMOUNT
from ledger.entrypoints.http.formats import (
    CALENDAR_RULE,
    CORRELATION_ID_PATTERN,
    DATE_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    IF_MATCH_PATTERN,
    INSTANT_PATTERN,
    MAX_QUERY_INTEGER,
    NO_CONTROL_CHARACTERS,
    VISIBLE_TEXT_PATTERN,
)

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

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
# What a query or a report may name: any three capital letters (an unknown code has no figures).
CURRENCY_CODE: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": "^[A-Z]{3}$",
    "x-pattern-message": "must be a currency code such as USD",
}
# What an account or an order may be held in: an active ISO-4217 code (domain/money.py).
CURRENCY: Final[dict[str, Any]] = {
    "type": "string",
    "enum": sorted(ISO_4217_CURRENCIES),
    "x-enum-message": "must be an active ISO-4217 currency code such as USD",
}
VISIBLE_TEXT: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": VISIBLE_TEXT_PATTERN,
    "x-pattern-message": "must contain a visible character and no control characters",
    "description": "1-200 characters, at least one of them neither blank nor a control character; no control "
    "characters (U+0000-U+001F, U+007F).",
}
DESCRIPTION: Final[dict[str, Any]] = {
    "type": ["string", "null"],
    "maxLength": 500,
    "pattern": NO_CONTROL_CHARACTERS,
    "x-pattern-message": "must not contain control characters",
}
INSTANT: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": INSTANT_PATTERN,
    "x-pattern-message": "must be an ISO-8601 instant with a UTC offset, e.g. 2026-11-26T08:30:00Z",
    "description": "An ISO-8601 instant: date, time (seconds and up to 6 fraction digits optional) and UTC offset "
    "(Z or +hh:mm; encode '+' as %2B in a query), e.g. 2026-11-26T08:30:00Z. " + CALENDAR_RULE,
}

OPEN_ACCOUNT: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["owner"],
    "properties": {
        "owner": {
            **VISIBLE_TEXT,
            "description": f"{VISIBLE_TEXT['description']} Leading and trailing blanks are dropped.",
        },
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

_DIGITS: Final = "Digits only (at most 18, no sign)."
STATE_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_QUERY_INTEGER,
            "description": "The state right after this version (404 version_not_found past the newest). "
            f"{_DIGITS} Give either version or as_of, not both (422).",
        },
        "as_of": {
            **INSTANT,
            "description": "The state at this instant (404 if the aggregate did not exist yet). Give either version "
            "or as_of, not both (422). The instant must fall within 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z "
            "once in UTC. " + INSTANT["description"],
        },
    },
}
EVENTS_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "after": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_QUERY_INTEGER,
            "default": 0,
            "description": f"Events after this version (a page's next_after). {_DIGITS}",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": _DIGITS},
    },
}


def page_query(default_limit: int) -> dict[str, Any]:
    """The query of a read model's list: a page of at most `limit` rows, from `cursor` (a page's `next_cursor`)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "limit": _page_limit(default_limit),
            "cursor": CURSOR,
        },
    }


CURSOR: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "description": "The next_cursor of the page before, as it was given (opaque): any other value is refused (422).",
}


def _page_limit(default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": 100, "default": default, "description": _DIGITS}


ACCOUNTS_QUERY: Final = page_query(50)
PAGE_QUERY: Final = page_query(20)  # the other read models' lists
NO_QUERY: Final[dict[str, Any]] = {"type": "object", "additionalProperties": False}
ALERTS_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "account_id": {**ID, "description": "Only this account's alerts. Give either account_id or order_id."},
        "order_id": {**ID, "description": "Only this order's alerts. Give either account_id or order_id, not both."},
        "limit": _page_limit(20),
        "cursor": CURSOR,
    },
}
REPORT_DATE: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": DATE_PATTERN,
    "x-pattern-message": "must be a real calendar date as YYYY-MM-DD",
    "description": "A UTC date as YYYY-MM-DD. " + CALENDAR_RULE,
}

# Request headers.
IDEMPOTENCY_KEY: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": IDEMPOTENCY_KEY_PATTERN,
    "description": "1-255 visible ASCII characters (U+0021-U+007E; a UUID is a good choice). A repeat with the same "
    "key and the same method, path and body answers the first response (Idempotent-Replayed: true) and records "
    "nothing; the same key with another body is refused (422 idempotency_key_reused).",
}
IF_MATCH: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": IF_MATCH_PATTERN,
    "description": 'An ETag of this API: "<version>" (also W/"<version>" or a bare version; at most 18 digits), '
    "or * (any version). At another version the command is refused: 412 precondition_failed.",
}
CORRELATION_ID: Final[dict[str, Any]] = {
    "type": "string",
    "description": "Echoed in the response's X-Correlation-Id and recorded on the events when it is 1-128 visible "
    f"ASCII characters ({CORRELATION_ID_PATTERN}); any other value is ignored and the request id is used.",
}
HEADERS: Final[dict[str, dict[str, Any]]] = {
    "Idempotency-Key": IDEMPOTENCY_KEY,
    "If-Match": IF_MATCH,
    "X-Correlation-Id": CORRELATION_ID,
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
    "required": ["alerts", "next_cursor"],
    "properties": {
        "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}, "description": "Newest first."},
        "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page."},
    },
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


def error_schema(codes: Sequence[str] = ()) -> dict[str, Any]:
    """The body of every error the functions answer; with `codes`, only those codes."""
    code: dict[str, Any] = {"type": "string", "description": "snake_case; what a client branches on"}
    if codes:
        code["enum"] = list(codes)
    return {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": code,
                    "message": {"type": "string", "description": "A sentence for people; may change"},
                    "details": {
                        "type": "array",
                        "description": "One per invalid field (validation_error)",
                        "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "additionalProperties": False,
                            "properties": {
                                "field": {"type": "string", "description": "e.g. amount, items[0].quantity, as_of"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    }


ERROR: Final = error_schema()
# What API Gateway itself answers (deployed: 403 without a valid signature, 429 when throttled, ...; locally the
# runtime's gateway: 413 over 10 MB, 500 when a function fails).
GATEWAY_ERROR: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string", "description": "e.g. Forbidden, Too Many Requests"}},
}
HEALTH: Final[dict[str, Any]] = {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}}

COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "AccountState": ACCOUNT_STATE,
    "Event": EVENT,
    "EventsPage": EVENTS_PAGE,
    "Error": ERROR,
    "GatewayError": GATEWAY_ERROR,
    "Health": HEALTH,
    "AccountsPage": ACCOUNTS_PAGE,
    "Alert": ALERT,
    "AlertsPage": ALERTS_PAGE,
    "DailyReport": DAILY_REPORT,
    "OpenAccount": OPEN_ACCOUNT,
    "MoneyMovement": MONEY_MOVEMENT,
    "EmptyBody": EMPTY_BODY,
}
