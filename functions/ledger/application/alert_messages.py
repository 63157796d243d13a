"""The alert message on account-alerts (docs/schemas/alert-message.schema.json), and back."""

from __future__ import annotations

import json
from typing import Any

from ledger.domain.fraud import Alert
from ledger.kernel.codec import CodecError, from_json
from ledger.kernel.messages import InvalidMessageError, json_object


def alert_to_json(alert: Alert) -> bytes:
    return json.dumps(alert_body(alert), separators=(",", ":")).encode()


def alert_body(alert: Alert) -> dict[str, Any]:
    """The alert as its message (docs/schemas/alert-message.schema.json): an order alert adds what it is about."""
    body: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "rule": alert.rule,
        "severity": alert.severity,
        "account_id": alert.account_id,
        "amount": alert.amount,
        "event_ids": list(alert.event_ids),
        "raised_at": alert.raised_at,
        "description": alert.description,
    }
    for name in ("order_id", "customer_id", "currency"):
        if getattr(alert, name) is not None:
            body[name] = getattr(alert, name)
    return body


def alert_of(body: dict[str, Any]) -> Alert:
    event_ids = body.get("event_ids")
    if not isinstance(event_ids, list) or not all(isinstance(e, str) for e in event_ids):
        raise InvalidMessageError("event_ids must be a list of strings")
    try:
        return from_json(Alert, {"account_id": None, **body, "event_ids": tuple(event_ids)})
    except CodecError as error:
        raise InvalidMessageError(str(error)) from error


def parse_alert(raw: bytes) -> Alert:
    return alert_of(json_object(raw))
