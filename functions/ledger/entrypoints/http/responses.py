"""Response shapes: an aggregate's state with its ETag, a command's outcome, and the event history page."""

from __future__ import annotations

import json
from dataclasses import asdict
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from ledger.domain.accounts import Account
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandOutcome


def etag(version: int) -> str:
    return f'"{version}"'


def account_body(account: Account) -> dict[str, Any]:
    return asdict(account)


def state_response(
    body: dict[str, Any], version: int, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"ETag": etag(version), "Cache-Control": "no-store", **(headers or {})},
    )


def command_response(outcome: CommandOutcome[Any], body: dict[str, Any], *, location: str) -> Response[str]:
    """201 + Location for a new aggregate, 200 otherwise; a replayed repeat says so in Idempotent-Replayed."""
    headers = {"Idempotent-Replayed": "true"} if outcome.idempotent_replay else {}
    if outcome.created:
        return state_response(body, outcome.version, HTTPStatus.CREATED, {**headers, "Location": location})
    return state_response(body, outcome.version, HTTPStatus.OK, headers)


def event_body(record: EventRecord) -> dict[str, Any]:
    return {
        "event_id": record.event_id,
        "type": record.event_type,
        "version": record.version,
        "occurred_at": record.occurred_at,
        "schema_version": record.schema_version,
        "data": dict(record.data),
        "metadata": dict(record.metadata),
    }


def events_response(records: list[EventRecord], next_after: int | None) -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"events": [event_body(r) for r in records], "next_after": next_after}),
        headers={"Cache-Control": "no-store"},
    )
