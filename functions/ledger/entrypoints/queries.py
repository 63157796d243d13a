"""The query function: state (current or temporal) and history reads, health, the OpenAPI document, and the
API's $default route (unknown routes get the JSON 404 every other error has)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.http import schemas
from ledger.entrypoints.http.errors import FieldError, RequestValidationError, register_error_handlers
from ledger.entrypoints.http.openapi import openapi_document
from ledger.entrypoints.http.read_models import ACCOUNTS, READ_MODELS
from ledger.entrypoints.http.read_models import router as read_model_routes
from ledger.entrypoints.http.requests import path_id
from ledger.entrypoints.http.resolve import resolve
from ledger.entrypoints.http.responses import account_body, events_response, state_response
from ledger.entrypoints.http.validation import read_query

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)
app.include_router(read_model_routes)
bootstrap.start(ACCOUNTS, *READ_MODELS)


@app.get("/accounts/<account_id>")
@tracer.capture_method
def get_account(account_id: str) -> Response[str]:
    account = path_id(account_id, "account_id", logger, tracer)
    query = read_query(app.current_event.raw_event, schemas.STATE_QUERY)
    if "version" in query and "as_of" in query:
        raise RequestValidationError([FieldError("as_of", "give either version or as_of, not both")])
    as_of = _instant(query["as_of"]) if "as_of" in query else None
    read = bootstrap.get(ACCOUNTS).read(account, version=query.get("version"), as_of=as_of)
    return state_response(account_body(read.state), read.version)


@app.get("/accounts/<account_id>/events")
@tracer.capture_method
def list_events(account_id: str) -> Response[str]:
    account = path_id(account_id, "account_id", logger, tracer)
    query = read_query(app.current_event.raw_event, schemas.EVENTS_QUERY)
    records, next_after = bootstrap.get(ACCOUNTS).history(
        account, after=query.get("after", 0), limit=query.get("limit", 100)
    )
    return events_response(records, next_after)


@app.get("/health")
def health() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, '{"status": "ok"}', {"Cache-Control": "no-store"})


@app.get("/openapi.json")
def openapi() -> Response[dict[str, Any]]:
    return Response(200, content_types.APPLICATION_JSON, openapi_document())


def _instant(raw: str) -> datetime:
    try:
        instant: datetime | None = datetime.fromisoformat(raw)
        if instant is not None and instant.tzinfo is not None:
            instant.astimezone(UTC)  # years at the edge of the calendar overflow here
    except (ValueError, OverflowError):
        instant = None
    if instant is None or instant.tzinfo is None:
        raise RequestValidationError(
            [FieldError("as_of", "must be an ISO-8601 instant with a UTC offset, e.g. 2026-11-26T08:30:00Z")]
        )
    return instant


@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, logger, event, context)
