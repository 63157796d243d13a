"""GET /dashboard through the query function's handler: one self-contained HTML page (nothing loaded from another
origin), read once per process, with an element per headline figure and the API calls it polls."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from ledger.entrypoints import queries
from ledger.entrypoints.http import analytics_routes
from ledger.entrypoints.http.openapi import openapi_document
from local.apigw import http_api_event
from tests.unit.http_support import lambda_context

HEADLINE_FIGURES = {"orders_placed", "orders_paid", "revenue", "average_order_value", "items_sold"}


def get_page(query: str = "") -> dict[str, Any]:
    """The query function's answer to GET /dashboard, as API Gateway would pass it on."""
    event = http_api_event("GET", "/dashboard", route_key="GET /dashboard", raw_query_string=query)
    response: dict[str, Any] = queries.lambda_handler(event, lambda_context())
    return response


class Page(HTMLParser):
    """Each start tag with its attributes, and the text of the inline scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_the_page_is_html_with_an_element_per_headline_figure() -> None:
    response = get_page("currency=EUR")  # the page's own parameter: the same page

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert response["headers"]["Cache-Control"] == "no-store"
    page = Page(response["body"])
    metrics = [attrs["data-metric"] for _, attrs in page.tags if "data-metric" in attrs]
    assert set(metrics) >= HEADLINE_FIGURES
    assert len(metrics) == len(set(metrics))  # one element each


def test_the_page_loads_nothing_from_elsewhere_and_its_script_is_inline() -> None:
    html = get_page()["body"]
    page = Page(html)

    for tag, attrs in page.tags:
        assert "src" not in attrs, tag  # no external script, image or frame
        assert not (tag == "link" and attrs.get("rel") == "stylesheet"), attrs
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    script = "".join(page.scripts)
    # It polls the report (the last hour by the minute, today by the hour), the orders and the alerts...
    for path in (
        "/analytics/sales?bucket=minute",
        "/analytics/sales?bucket=hour",
        "/orders?limit=10",
        "/alerts?limit=10",
    ):
        assert path in script
    # ... and reads its configuration next to itself, keeping tokens for the tab only
    assert 'fetch("config.json"' in script
    assert "sessionStorage" in script
    assert "localStorage" not in script
    assert 'code_challenge_method: "S256"' in script


def test_the_page_is_read_from_the_package_once_per_process() -> None:
    analytics_routes.dashboard_page.cache_clear()

    first, second = get_page()["body"], get_page()["body"]

    assert first == second
    info = analytics_routes.dashboard_page.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_the_page_is_in_the_openapi_document_as_html() -> None:
    operation = openapi_document()["paths"]["/dashboard"]["get"]
    assert operation["tags"] == ["analytics"]
    assert operation["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
