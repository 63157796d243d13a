"""The query function: state (current or temporal) and history reads, the read models, health, the OpenAPI document
and its page (/docs), and the API's $default route (a known path with another method gets 405 with Allow, an unknown
route the JSON 404 every other error has). The account routes are here; the read models', the orders, inventory and
shipments routes, and the sales report and dashboard page are Routers of their own."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.entrypoints.http import analytics_routes, docs_page, order_queries
from ledger.entrypoints.http.aggregate_routes import read_history, read_state
from ledger.entrypoints.http.error_handlers import register_error_handlers
from ledger.entrypoints.http.openapi import openapi_document
from ledger.entrypoints.http.read_models import ACCOUNTS, READ_MODELS
from ledger.entrypoints.http.read_models import router as read_model_routes
from ledger.entrypoints.http.requests import path_id
from ledger.entrypoints.http.resolve import resolve
from ledger.entrypoints.http.resources import ACCOUNT_RESOURCE
from ledger.entrypoints.http.responses import html_page

logger = Logger()
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)
app.include_router(read_model_routes)
app.include_router(order_queries.router)
app.include_router(analytics_routes.router)
bootstrap.start(ACCOUNTS, *READ_MODELS, *order_queries.PARTS, *analytics_routes.PARTS)


@app.get("/accounts/<account_id>")
def get_account(account_id: str) -> Response[str]:
    return read_state(app, ACCOUNT_RESOURCE, _account(account_id))


@app.get("/accounts/<account_id>/events")
def list_events(account_id: str) -> Response[str]:
    return read_history(app, ACCOUNT, _account(account_id))


@app.get("/health")
def health() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, '{"status": "ok"}', {"Cache-Control": "no-store"})


@app.get("/openapi.json")
def openapi() -> Response[dict[str, Any]]:
    return Response(200, content_types.APPLICATION_JSON, openapi_document())


@app.get("/docs", compress=True)  # gzipped for a client that accepts it: ~0.5 MB instead of ~1.7 MB
def docs() -> Response[str]:
    return html_page(docs_page.docs_page())


def _account(raw: str) -> str:
    return path_id(app.current_event.raw_event, raw, "account_id", logger)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, logger, event, context)
