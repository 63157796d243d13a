"""The alert message on account-alerts (docs/schemas/alert-message.schema.json), and back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledger.domain.fraud import Alert
from ledger.kernel.codec import CodecError, from_json
from ledger.kernel.messages import InvalidMessageError, json_object


@dataclass(frozen=True)
class AlertMessage:
    alert: Alert
    correlation_id: str | None  # the triggering event's: what ties the alert to the request that caused it, in logs


def alert_to_json(alert: Alert, correlation_id: str | None = None) -> bytes:
    body = alert_body(alert)
    if correlation_id is not None:
        body["correlation_id"] = correlation_id
    return json.dumps(body, separators=(",", ":")).encode()


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
    return parse_alert_message(raw).alert


def parse_alert_message(raw: bytes) -> AlertMessage:
    body = json_object(raw)
    correlation_id = body.pop("correlation_id", None)
    if correlation_id is not None and not isinstance(correlation_id, str):
        raise InvalidMessageError("correlation_id must be a string")
    return AlertMessage(alert_of(body), correlation_id)
