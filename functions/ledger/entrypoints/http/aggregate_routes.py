"""What every aggregate's routes do alike, whichever aggregate: run a command (its context from the request, logged
with the aggregate's type and id) and answer the state; read a state, now or in the past; read a history.

`router` is the resolver or a Router included in it (both see the request and the routing context, where `resolve`
put the request's correlation id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from ledger import bootstrap
from ledger.entrypoints.http import schemas
from ledger.entrypoints.http.errors import FieldError, RequestValidationError
from ledger.entrypoints.http.requests import command_context, correlation_id
from ledger.entrypoints.http.responses import command_response, events_response, state_response
from ledger.entrypoints.http.validation import read_query
from ledger.kernel.aggregate import Aggregate

C = TypeVar("C")
S = TypeVar("S")

logger = Logger(child=True)


@dataclass(frozen=True)
class StateResource(Generic[C, S]):
    """How an aggregate's state shows over HTTP: its body, and where a new one lives (None for an aggregate that a
    command creates or changes alike, which always answers 200)."""

    aggregate: Aggregate[C, Any, S]
    body: Callable[[S], dict[str, Any]]
    location: Callable[[S], str] | None = None


def run_command(
    router: BaseRouter, resource: StateResource[C, S], command: C, body: Mapping[str, Any]
) -> Response[str]:
    """Execute `command` (sent with the request's `body`) and answer the state it leaves, with its ETag."""
    event = router.current_event.raw_event
    context = command_context(event, body, router.context.get("correlation_id") or correlation_id(event))
    aggregate = resource.aggregate
    outcome = bootstrap.get(bootstrap.command_service(aggregate)).execute(command, context)
    logger.info(
        "command executed",
        extra={
            "command": type(command).__name__,
            "aggregate_type": aggregate.type,
            "aggregate_id": aggregate.id_of(command),
            "version": outcome.version,
            "idempotent_replay": outcome.idempotent_replay,
        },
    )
    location = resource.location(outcome.state) if resource.location is not None else None
    return command_response(outcome, resource.body(outcome.state), location=location)


def read_state(router: BaseRouter, resource: StateResource[Any, S], aggregate_id: str) -> Response[str]:
    """The state now, at `?version=` or `?as_of=` (not both), with its ETag."""
    query = read_query(router.current_event.raw_event, schemas.STATE_QUERY)
    if "version" in query and "as_of" in query:
        raise RequestValidationError([FieldError("as_of", "give either version or as_of, not both")])
    as_of = instant(query["as_of"], "as_of") if "as_of" in query else None
    read = bootstrap.get(bootstrap.reader(resource.aggregate)).read(
        aggregate_id, version=query.get("version"), as_of=as_of
    )
    return state_response(resource.body(read.state), read.version)


def read_history(router: BaseRouter, aggregate: Aggregate[Any, Any, Any], aggregate_id: str) -> Response[str]:
    """A page of the aggregate's events (`?after=`, `?limit=`), in order."""
    query = read_query(router.current_event.raw_event, schemas.EVENTS_QUERY)
    records, next_after = bootstrap.get(bootstrap.reader(aggregate)).history(
        aggregate_id, after=query.get("after", 0), limit=query.get("limit", 100)
    )
    return events_response(records, next_after)


def instant(raw: str, field: str) -> datetime:
    """An ISO-8601 instant with a UTC offset (`raw` matched formats.INSTANT_PATTERN already, or not: it is parsed
    all the same), or a validation error naming `field`."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise RequestValidationError(
            [FieldError(field, "must be an ISO-8601 instant with a UTC offset, e.g. 2026-11-26T08:30:00Z")]
        )
    try:
        parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: a real date, but before year 1 in UTC
        raise RequestValidationError(
            [FieldError(field, f"must fall within {_FIRST_INSTANT}..{_LAST_INSTANT} once in UTC")]
        ) from None
    return parsed


_FIRST_INSTANT: Final = "0001-01-01T00:00:00Z"
_LAST_INSTANT: Final = "9999-12-31T23:59:59Z"
