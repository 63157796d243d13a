"""The sales report and the live dashboard page: a Router the query function includes.

GET /analytics/sales reads the sales read model (minute figures per currency, fed by the analytics consumer: it
trails the orders by the pipeline's delay). GET /dashboard answers the page (functions/ledger/dashboard/index.html,
packaged with the code and read once per process), which polls the API itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ledger import bootstrap
from ledger.application.pipeline.analytics import sales_report
from ledger.components import SALES_STORE
from ledger.entrypoints.http.analytics_query import report_body, sales_query
from ledger.entrypoints.http.analytics_schemas import DASHBOARD_QUERY, SALES_QUERY
from ledger.entrypoints.http.responses import html_page, json_response
from ledger.entrypoints.http.validation import query_parameters, read_query

logger = Logger(child=True)
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
PARTS: Final = (SALES_STORE,)
TOP_PRODUCTS: Final = 5


@router.get("/analytics/sales")
def get_sales() -> Response[str]:
    params, errors = query_parameters(router.current_event.raw_event, SALES_QUERY)
    query = sales_query(params, datetime.now(UTC), errors)
    logger.append_keys(currency=query.currency)
    report = sales_report(
        bootstrap.get(SALES_STORE), query.currency, query.start, query.end, bucket=query.bucket, top=TOP_PRODUCTS
    )
    return json_response(report_body(query, report))


@router.get("/dashboard")
def get_dashboard() -> Response[str]:
    """The page; its query (?currency=) is read by its script, and checked here first."""
    read_query(router.current_event.raw_event, DASHBOARD_QUERY)
    return html_page(dashboard_page())


@cache
def dashboard_page() -> str:
    """The page, read from the package once per process."""
    return resources.files("ledger").joinpath("dashboard", "index.html").read_text(encoding="utf-8")
