"""GET /docs in a real browser (headless Chromium, as the dashboard's test): Swagger UI renders every operation of
the document, under the page's own Content-Security-Policy, without a single request beyond the page itself (no
CDN, no validator badge), and "Try it out" reaches the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from local.screenshot import headless_chromium
from tests.e2e.client import ApiClient
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import eventually
from tests.e2e.support import local_only

pytestmark = local_only  # the page is the same deployed, but needs a signed request there


@pytest.fixture
def browser(local_runtime: LocalRuntime) -> Iterator[webdriver.Chrome]:
    with headless_chromium() as driver:
        yield driver


def test_swagger_ui_shows_every_operation_and_loads_nothing_from_elsewhere(
    browser: webdriver.Chrome, local_runtime: LocalRuntime, api: ApiClient
) -> None:
    # GIVEN the document's operations
    document = api.get("/openapi.json").json
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    # WHEN the page opens
    browser.get(f"{local_runtime.base_url}/docs")
    shown = eventually(lambda: _operations_on_screen(browser) or None, timeout=20)
    # THEN each operation is on it, under the document's title
    assert shown == operations
    assert document["info"]["title"] in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    # AND the browser fetched nothing but the page (everything else is inline), and nothing was refused
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in fetched if not url.startswith("data:")] == []
    entries: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    problems = [entry for entry in entries if entry["level"] == "SEVERE"]
    assert problems == [], json.dumps(problems, indent=1)


def test_try_it_out_calls_the_api_from_the_page(browser: webdriver.Chrome, local_runtime: LocalRuntime) -> None:
    # GIVEN the page WHEN GET /health is tried from it
    browser.get(f"{local_runtime.base_url}/docs#/ops/health")
    eventually(lambda: browser.find_elements(By.CSS_SELECTOR, "#operations-ops-health .try-out__btn"), timeout=20)[
        0
    ].click()
    browser.find_element(By.CSS_SELECTOR, "#operations-ops-health .execute").click()
    # THEN the API's answer is on the page (connect-src 'self' lets it through)
    answer = eventually(
        lambda: browser.find_elements(
            By.CSS_SELECTOR, "#operations-ops-health .live-responses-table tbody .response-col_status"
        ),
        timeout=10,
    )
    assert answer[0].text.strip().startswith("200")


def _operations_on_screen(driver: webdriver.Chrome) -> set[tuple[str, str]]:
    found = set()
    for block in driver.find_elements(By.CSS_SELECTOR, ".opblock"):
        method = block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.strip()
        path = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
        found.add((method, path or ""))
    return found
