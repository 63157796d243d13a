"""The dashboard in a real browser (headless Chromium from Debian's packages, driven by Selenium) against the local
runtime: the figures on screen are the API's, they move by exactly an order paid without a reload, a failing
request shows the error banner until the next refresh succeeds, and a slow request delays the next refresh instead
of overlapping it. Deployed (config.json next to the page), it signs in with Cognito's hosted UI, code + PKCE, and
sends the ID token: tests/e2e/fake_deployment.py stands in for CloudFront, Cognito and the dashboard API.

`make test` installs chromium and chromium-driver when they are missing (`make browser`); without them this test
fails, saying so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from local.screenshot import headless_chromium, metrics_on_screen
from tests.e2e.client import ApiClient
from tests.e2e.fake_deployment import CLIENT_ID, FakeDeployment, s256
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import eventually
from tests.e2e.sales_support import SALES_WAIT_SECONDS, counted, sell, settle, today
from tests.e2e.support import local_only

pytestmark = local_only  # the page on the local runtime, which needs no sign-in

PAGE = Path(__file__).resolve().parents[2] / "functions" / "ledger" / "dashboard" / "index.html"

# Records each fetch the page makes, and can answer /alerts with a 500 or only after 3 s.
INSTRUMENT_FETCH = """
window.__calls = [];
window.__alerts = "pass";
const original = window.fetch.bind(window);
window.fetch = (url, options) => {
  const href = String(url);
  window.__calls.push({ href, at: Date.now() });
  if (href.includes("/alerts") && window.__alerts === "fail") {
    const body = JSON.stringify({ error: { code: "internal_error", message: "failed on purpose" } });
    return Promise.resolve(new Response(body, { status: 500, headers: { "Content-Type": "application/json" } }));
  }
  if (href.includes("/alerts") && window.__alerts === "slow") {
    return new Promise((resolve) => setTimeout(resolve, 3000)).then(() => original(url, options));
  }
  return original(url, options);
};
"""


@pytest.fixture
def browser(local_runtime: LocalRuntime) -> Iterator[webdriver.Chrome]:
    with headless_chromium() as driver:
        yield driver


def open_dashboard(driver: webdriver.Chrome, runtime: LocalRuntime) -> dict[str, int]:
    """Open the page and wait for its first figures."""
    driver.get(f"{runtime.base_url}/dashboard")
    return eventually(lambda: metrics_on_screen(driver), timeout=15)


def shown_metrics(driver: webdriver.Chrome, expected: dict[str, int], timeout: float) -> dict[str, int] | None:
    """The figures on screen once they are `expected`, else the last ones seen after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    shown = metrics_on_screen(driver)
    while shown != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        shown = metrics_on_screen(driver)
    return shown


def test_the_figures_on_screen_move_by_exactly_an_order_paid(
    browser: webdriver.Chrome, api: ApiClient, local_runtime: LocalRuntime
) -> None:
    # GIVEN the dashboard open on a quiet runtime, showing today's figures as the API gives them
    settle(local_runtime)
    before = open_dashboard(browser, local_runtime)
    totals = today(api)["totals"]
    names = ("orders_placed", "orders_paid", "revenue", "average_order_value", "items_sold")
    assert before == {name: totals[name] for name in names}
    updated = browser.find_element(By.ID, "updated").text
    assert updated.startswith("updated ")

    # WHEN an order of 2 units at $45.67 is paid in full through the API
    sale = sell(api, quantity=2, unit_price=4_567)

    # THEN, without a reload, the page shows the figures moved by exactly that order (the average as the API has it)
    paid_at = time.monotonic()
    average = counted(api, sale, totals)["totals"]["average_order_value"]
    expected = {
        "orders_placed": before["orders_placed"] + 1,
        "orders_paid": before["orders_paid"] + 1,
        "revenue": before["revenue"] + sale.total,
        "average_order_value": average,
        "items_sold": before["items_sold"] + 2,
    }
    shown = shown_metrics(browser, expected, SALES_WAIT_SECONDS - (time.monotonic() - paid_at))
    assert shown == expected, f"before {before}, {sale}"
    assert browser.find_element(By.ID, "updated").text != updated
    assert not browser.find_element(By.ID, "banner").is_displayed()
    # AND the order is among the newest, with its status
    rows = browser.find_element(By.ID, "orders").find_elements(By.TAG_NAME, "tr")
    assert any(sale.order_id in row.text and "paid" in row.text for row in rows), [row.text for row in rows]
    assert not _page_errors(browser)


def test_a_failed_request_shows_the_banner_until_a_refresh_succeeds(
    browser: webdriver.Chrome, local_runtime: LocalRuntime
) -> None:
    open_dashboard(browser, local_runtime)
    browser.execute_script(INSTRUMENT_FETCH)

    browser.execute_script('window.__alerts = "fail";')
    banner = eventually(lambda: _displayed(browser, "banner"), timeout=10)
    assert "GET /alerts answered 500 (internal_error)" in banner

    browser.execute_script('window.__alerts = "pass";')
    eventually(lambda: not browser.find_element(By.ID, "banner").is_displayed(), timeout=10)


def test_a_slow_request_delays_the_next_refresh_instead_of_overlapping_it(
    browser: webdriver.Chrome, local_runtime: LocalRuntime
) -> None:
    # GIVEN the page polling every second, with /alerts now answering after 3 s
    open_dashboard(browser, local_runtime)
    browser.execute_script(INSTRUMENT_FETCH)
    browser.execute_script('window.__alerts = "slow";')

    # WHEN a refresh meets the slow /alerts
    def slow_call() -> dict[str, Any] | None:
        calls: list[dict[str, Any]] = browser.execute_script("return window.__calls;")
        return next((call for call in calls if "/alerts" in call["href"]), None)

    slow = eventually(slow_call, timeout=10)
    time.sleep(4.5)
    calls: list[dict[str, Any]] = browser.execute_script("return window.__calls;")

    # THEN no request starts while it is pending, and polling goes on once it is answered
    during = [call for call in calls if slow["at"] + 100 < call["at"] < slow["at"] + 2_900]
    after = [call for call in calls if call["at"] >= slow["at"] + 3_000]
    assert during == []
    assert any("/analytics/sales" in call["href"] for call in after), calls


def test_deployed_it_signs_in_with_the_code_grant_and_pkce_and_sends_the_id_token(
    browser: webdriver.Chrome, local_runtime: LocalRuntime
) -> None:
    with FakeDeployment(PAGE, local_runtime.base_url) as deployed:
        # GIVEN the page served with a config.json naming the API and the hosted UI
        # WHEN a person opens it
        browser.get(f"{deployed.site_url}/index.html?currency=USD")

        # THEN it sends them to sign in (code grant, S256 challenge) and, back with the code, shows the figures
        eventually(lambda: metrics_on_screen(browser), timeout=20)
        [authorization] = deployed.authorizations
        assert {key: value for key, value in authorization.items() if key not in ("state", "code_challenge")} == {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": deployed.redirect_uri,
            "scope": "openid email",
            "code_challenge_method": "S256",
        }
        # AND it redeemed the code with the verifier of that challenge (the stand-in refuses any other)
        [redemption] = deployed.token_requests
        assert redemption["grant_type"] == "authorization_code"
        assert s256(redemption["code_verifier"]) == authorization["code_challenge"]
        # AND every API call carried the ID token, kept for the tab only, and the address is the page's again
        assert set(deployed.api_authorizations) == {"Bearer id-token-1"}
        assert "id-token-1" in browser.execute_script("return sessionStorage.getItem('dashboard.tokens');")
        assert browser.execute_script("return localStorage.length;") == 0
        assert browser.current_url == f"{deployed.site_url}/index.html?currency=USD"
        sign_out = urlsplit(browser.find_element(By.ID, "sign-out").get_attribute("href") or "")
        assert (sign_out.netloc, sign_out.path) == (urlsplit(deployed.cognito_url).netloc, "/logout")
        assert dict(parse_qsl(sign_out.query)) == {"client_id": CLIENT_ID, "logout_uri": deployed.redirect_uri}

        # WHEN the API starts answering 401 to that token (issued a while ago)
        browser.execute_script(
            "const tokens = JSON.parse(sessionStorage.getItem('dashboard.tokens'));"
            "tokens.obtained_at -= 60000; sessionStorage.setItem('dashboard.tokens', JSON.stringify(tokens));"
        )
        deployed.revoke()

        # THEN the page sends the person to sign in again and goes on with the new token
        eventually(lambda: len(deployed.authorizations) == 2, timeout=15)
        eventually(lambda: deployed.api_authorizations[-1] == "Bearer id-token-2", timeout=15)
        assert eventually(lambda: metrics_on_screen(browser), timeout=15)


def _displayed(driver: webdriver.Chrome, element_id: str) -> str | None:
    element = driver.find_element(By.ID, element_id)
    return element.text if element.is_displayed() else None


def _page_errors(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console's errors but the expected one: config.json is absent locally (404)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [e for e in entries if e["level"] == "SEVERE" and "config.json" not in e["message"]]
