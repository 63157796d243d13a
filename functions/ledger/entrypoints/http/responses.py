"""Response shapes: an aggregate's state with its ETag, a command's outcome, a history page, a read model's page."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types

from ledger.entrypoints.http.errors import FieldError, RequestValidationError
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandOutcome

R = TypeVar("R")


def etag(version: int) -> str:
    return f'"{version}"'


def json_response(
    body: dict[str, Any], status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def state_response(
    body: dict[str, Any], version: int, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[str]:
    """An aggregate's state (any aggregate's body) with its version as ETag."""
    return json_response(body, status, {"ETag": etag(version), **(headers or {})})


def command_response(outcome: CommandOutcome[Any], body: dict[str, Any], *, location: str | None) -> Response[str]:
    """201 + Location for a new aggregate that has a `location`, 200 otherwise (also for an aggregate a command
    creates or changes alike, e.g. stock, which has none); a replayed repeat says so in Idempotent-Replayed."""
    headers = {"Idempotent-Replayed": "true"} if outcome.idempotent_replay else {}
    if outcome.created and location is not None:
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
    return json_response({"events": [event_body(r) for r in records], "next_after": next_after})


def page_response(
    name: str, body: Callable[[R], dict[str, Any]], fetch: Callable[[], tuple[list[R], str | None]]
) -> Response[str]:
    """A page of a read model's rows, {name: [...], "next_cursor"}; a cursor the read model does not know (it raises
    ValueError, or OverflowError for a crafted one whose day is at the calendar's edge) is a validation error naming
    `cursor`."""
    try:
        rows, cursor = fetch()
    except ValueError as error:
        raise RequestValidationError([FieldError("cursor", str(error))]) from error
    except OverflowError as error:
        raise RequestValidationError([FieldError("cursor", "not a cursor this API gave out")]) from error
    return json_response({name: [body(row) for row in rows], "next_cursor": cursor})


_HTML: Final = "text/html; charset=utf-8"
# The pages this API serves (/dashboard, /docs) carry their scripts and styles inline and talk to their own origin
# only; img-src allows data: images (Swagger UI's icons). Deployed, the dashboard's copy on CloudFront has its own.
_PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def html_page(html: str) -> Response[str]:
    """200 with a self-contained HTML page, under the headers every page of this API has."""
    return Response(200, _HTML, html, dict(_PAGE_HEADERS))
