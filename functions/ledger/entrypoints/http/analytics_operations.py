"""The sales report and the dashboard page, as operations (openapi.py documents them)."""

from __future__ import annotations

from typing import Final

from ledger.entrypoints.http.analytics_schemas import DASHBOARD_QUERY, SALES_QUERY
from ledger.entrypoints.http.operations import INVALID, Operation

ANALYTICS_OPERATIONS: Final = (
    Operation(
        "GET",
        "/analytics/sales",
        "queries",
        "salesReport",
        "Sales figures of a time range in minute or hour buckets, its totals and its top 5 products (one currency)",
        (200, "The report, from the sales read model (it trails the orders by the pipeline's delay)", "SalesReport"),
        INVALID,
        query=SALES_QUERY,
        tags=("analytics",),
    ),
    Operation(
        "GET",
        "/dashboard",
        "queries",
        "dashboard",
        "The live sales dashboard: an HTML page that polls /analytics/sales, /orders and /alerts every second "
        "(`?currency=EUR` selects the currency; docs/dashboard.md)",
        (200, "The page", None),
        INVALID,
        query=DASHBOARD_QUERY,
        tags=("analytics",),
        media_type="text/html",
    ),
)
