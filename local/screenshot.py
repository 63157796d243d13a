"""`python -m local.screenshot` (`make screenshot`): docs/dashboard.png, the dashboard under load.

Starts a local runtime of its own (empty, on free ports; or uses `--base-url`), sells for `--seconds` (orders of
several skus placed and paid, a few left unpaid or cancelled, one large order, and an account that trips the
fraud rules), then photographs /dashboard in headless Chromium. `headless_chromium` is also what the browser test
drives: Debian's chromium and chromium-driver (`make browser` installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMEDRIVER: Final = Path("/usr/bin/chromedriver")
ROOT: Final = Path(__file__).resolve().parent.parent
METRICS: Final = ("orders_placed", "orders_paid", "revenue", "average_order_value", "items_sold")
# name, unit price (cents), how often it sells
PRODUCTS: Final = (
    ("espresso-beans-1kg", 2_450, 9),
    ("oat-milk-6pack", 1_299, 7),
    ("ceramic-mug", 1_800, 5),
    ("pour-over-kettle", 5_900, 3),
    ("burr-grinder", 12_900, 2),
    ("paper-filters-100", 650, 6),
    ("tasting-gift-box", 3_900, 2),
)


class BrowserMissingError(RuntimeError):
    pass


@contextmanager
def headless_chromium(width: int = 1400, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """Headless Chromium from Debian's packages, in a profile of its own that is deleted afterwards."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        raise BrowserMissingError(
            f"{' and '.join(missing)} missing: `make browser` installs Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver)"
        )
    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            driver.set_page_load_timeout(30)
            # The page's viewport exactly (--window-size counts the window, not what the page gets).
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            yield driver
        finally:
            driver.quit()


def metrics_on_screen(driver: webdriver.Chrome) -> dict[str, int] | None:
    """The headline figures as the page shows them (the digits of "$1,234.50" are 123450 minor units); None until
    each shows a number."""
    shown: dict[str, int] = {}
    for name in METRICS:
        text = driver.find_element(By.CSS_SELECTOR, f'[data-metric="{name}"]').text
        digits = "".join(character for character in text if character.isdigit())
        if not digits:
            return None
        shown[name] = int(digits)
    return shown


# --- the load --------------------------------------------------------------------------------------------------


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())} if data else {}
        request = Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310 - local
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310
                answer: dict[str, Any] = json.load(response)
                return answer
        except HTTPError as error:
            raise RuntimeError(f"{method} {path} answered {error.code}: {error.read()[:300]!r}") from error

    def healthy(self) -> bool:
        try:
            return self.call("GET", "/health") == {"status": "ok"}
        except (URLError, OSError, RuntimeError):
            return False


def sell(api: Api, seconds: float, rng: random.Random) -> int:
    """Orders for `seconds`: most paid in full, some paid in part or cancelled; returns how many were placed."""
    for sku, _, _ in PRODUCTS:
        api.call("POST", f"/inventory/{sku}/restocks", {"quantity": 5_000})
    api.call("POST", "/inventory/diamond-espresso-machine/restocks", {"quantity": 5})
    trip_account_rules(api)
    weights = [weight for _, _, weight in PRODUCTS]
    placed, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = {}
        for sku, price, _ in rng.choices(PRODUCTS, weights, k=rng.choice((1, 1, 2, 2, 3))):
            lines[sku] = {"sku": sku, "quantity": rng.choice((1, 1, 1, 2, 3)), "unit_price": price}
        order = api.call(
            "POST", "/orders", {"customer_id": f"customer-{rng.randint(1, 40)}", "items": [*lines.values()]}
        )
        placed += 1
        fate = rng.random()
        if fate < 0.8:
            api.call("POST", f"/orders/{order['order_id']}/payments", {"amount": order["total"]})
        elif fate < 0.9:
            api.call("POST", f"/orders/{order['order_id']}/payments", {"amount": order["total"] // 2})
        else:
            api.call("POST", f"/orders/{order['order_id']}/cancel", {})
        if placed == 10:  # a large order, paid in full: the order fraud rules may flag it
            line = {"sku": "diamond-espresso-machine", "quantity": 1, "unit_price": 1_250_000}
            large = api.call("POST", "/orders", {"customer_id": "customer-vip", "items": [line]})
            api.call("POST", f"/orders/{large['order_id']}/payments", {"amount": large["total"]})
            placed += 1
        time.sleep(rng.uniform(0.5, 3.0))
    return placed


def trip_account_rules(api: Api) -> None:
    """A large deposit and a burst of withdrawals: the account fraud rules raise alerts."""
    account = api.call("POST", "/accounts", {"owner": "Screenshot", "initial_balance": 10_000})["account_id"]
    api.call("POST", f"/accounts/{account}/deposits", {"amount": 1_500_000, "description": "large deposit"})
    for _ in range(5):
        api.call("POST", f"/accounts/{account}/withdrawals", {"amount": 1_000})


# --- the runtime and the picture -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def own_runtime() -> Iterator[str]:
    """`python -m local` on free ports over an empty data directory; its base URL."""
    with tempfile.TemporaryDirectory(prefix="dashboard-runtime-") as data:
        port, aws_port = _free_port(), _free_port()
        command = [sys.executable, "-m", "local", f"--port={port}", f"--aws-port={aws_port}"]
        command += [f"--data-dir={data}/data", "--reset"]
        env = {**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
        with (Path(data) / "runtime.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, running the local runtime
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            api, deadline = Api(f"http://127.0.0.1:{port}"), time.monotonic() + 90
            while not api.healthy():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((Path(data) / "runtime.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
            yield api.base_url
        finally:
            process.terminate()
            process.wait(60)


def photograph(base_url: str, out: Path, width: int, height: int) -> dict[str, int]:
    with headless_chromium(width, height) as driver:
        driver.get(f"{base_url}/dashboard")
        deadline, shown = time.monotonic() + 30, None
        while time.monotonic() < deadline and not (shown and shown["orders_paid"]):
            time.sleep(0.5)
            shown = metrics_on_screen(driver)
        time.sleep(2.5)  # a few more refreshes: the newest orders and alerts
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        return metrics_on_screen(driver) or {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.screenshot", description=__doc__.split("\n\n")[1])
    parser.add_argument("--base-url", help="a running API (`make run`) instead of a runtime of its own")
    parser.add_argument("--seconds", type=float, default=100, help="how long to sell before the picture (100)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--size", default="1400x1000", help="the window, WIDTHxHEIGHT (1400x1000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.split("x"))
    with own_runtime() if args.base_url is None else _given(args.base_url) as base_url:
        placed = sell(Api(base_url), args.seconds, random.Random(args.seed))  # noqa: S311 - pretend sales
        shown = photograph(base_url, args.out, width, height)
    sys.stdout.write(f"{placed} orders placed on {base_url}; {args.out} shows {shown}\n")
    return 0


@contextmanager
def _given(base_url: str) -> Iterator[str]:
    yield base_url


if __name__ == "__main__":
    sys.exit(main())
