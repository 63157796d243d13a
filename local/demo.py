"""`python -m local.demo [--base-url URL]` (`make demo`): the two seed scenarios against a running API.

The account: opens an account with $100.00, deposits $50.00, withdraws $20.00, then prints the balance history: each
event read back through GET /accounts/{id}/events, with the balance after it from the temporal read
GET /accounts/{id}?version=N, and the final balance ($130.00), derived by the service from the events alone.

The order: restocks two products, places an order with two items, pays it, and prints each step as the consumers
react on their own: the stock reserved (inventory), the shipment requested (shipping), the dashboard's figures
(analytics); then the warehouse dispatches it and the order follows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen


class DemoError(Exception):
    pass


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(  # noqa: S310 - the URL is the developer's own API
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())} if data else {},
        )
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310
                result: dict[str, Any] = json.load(response)
                return result
        except HTTPError as error:
            raise DemoError(
                f"{method} {path} answered {error.code}: {error.read().decode(errors='replace')}"
            ) from error
        except URLError as error:
            raise DemoError(f"cannot reach {self.base_url} ({error.reason}); is `make run` running?") from error


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def run(api: Api) -> list[str]:
    account_id = f"demo-{uuid.uuid4().hex[:12]}"
    api.call("POST", "/accounts", {"owner": "Demo Owner", "initial_balance": 10_000, "account_id": account_id})
    api.call("POST", f"/accounts/{account_id}/deposits", {"amount": 5_000, "description": "demo deposit"})
    api.call("POST", f"/accounts/{account_id}/withdrawals", {"amount": 2_000, "description": "demo withdrawal"})

    events = api.call("GET", f"/accounts/{account_id}/events")["events"]
    lines = [
        f"Seed scenario on {api.base_url}, account {account_id}",
        "",
        f"{'version':>7}  {'event':<16} {'amount':>10} {'balance after':>14}  occurred_at",
    ]
    for event in events:
        data = event["data"]
        amount = data.get("amount", data.get("initial_balance", 0))
        signed = -amount if event["type"] == "MoneyWithdrawn" else amount
        state = api.call("GET", f"/accounts/{account_id}?version={event['version']}")
        lines.append(
            f"{event['version']:>7}  {event['type']:<16} {dollars(signed):>10} {dollars(state['balance']):>14}"
            f"  {event['occurred_at']}"
        )
    final = api.call("GET", f"/accounts/{account_id}")
    lines += [
        "",
        f"Final balance: {dollars(final['balance'])} at version {final['version']} (replayed from the events)",
    ]
    return lines


def order_story(api: Api, wait: float = 20.0) -> list[str]:
    suffix = uuid.uuid4().hex[:8]
    mug, tee = f"demo-mug-{suffix}", f"demo-tee-{suffix}"
    lines = ["", f"Order scenario on {api.base_url}"]

    def step(text: str) -> None:
        lines.append(f"  {text}")

    before = api.call("GET", "/analytics/sales?bucket=hour")["totals"]
    for sku, quantity in ((mug, 10), (tee, 1)):
        stock = api.call("POST", f"/inventory/{sku}/restocks", {"quantity": quantity})
        step(f"restocked {sku}: on hand {stock['on_hand']}")
    items = [{"sku": mug, "quantity": 2, "unit_price": 1_250}, {"sku": tee, "quantity": 2, "unit_price": 2_400}]
    order = api.call("POST", "/orders", {"customer_id": "demo-customer", "items": items})
    order_id = order["order_id"]
    step(f"placed order {order_id}: 2 items, total {dollars(order['total'])}, {order['status']}")
    paid = api.call("POST", f"/orders/{order_id}/payments", {"amount": order["total"], "method": "card"})
    step(f"paid {dollars(paid['paid'])}: the order is {paid['status']}")

    reserved = _eventually(wait, lambda: api.call("GET", f"/inventory/{tee}"), lambda s: s["reserved"] == 1)
    step(f"inventory reserved: {tee} reserved {reserved['reserved']}, backordered {reserved['backordered']}")
    waiting = _eventually(wait, lambda: api.call("GET", f"/orders/{order_id}"), lambda o: o["items"][1]["backordered"])
    step(f"the order knows: line 2 ({tee}) waits for {waiting['items'][1]['backordered']}")
    shipment = _eventually(wait, lambda: _found(api, f"/orders/{order_id}/shipment"), lambda s: s is not None)
    step(f"shipping requested shipment {shipment['shipment_id']}: {shipment['status']}")
    totals = _eventually(
        wait,
        lambda: api.call("GET", "/analytics/sales?bucket=hour")["totals"],
        lambda t: t["orders_paid"] > before["orders_paid"],
    )
    step(
        f"the dashboard counts it: orders paid {before['orders_paid']} -> {totals['orders_paid']}, revenue "
        f"{dollars(before['revenue'])} -> {dollars(totals['revenue'])}"
    )
    api.call("POST", f"/shipments/{order_id}/dispatch", {})
    shipped = _eventually(wait, lambda: api.call("GET", f"/orders/{order_id}"), lambda o: o["status"] == "shipped")
    step(f"the warehouse dispatched it: the order is {shipped['status']} at version {shipped['version']}")
    return lines


def _found(api: Api, path: str) -> dict[str, Any] | None:
    try:
        return api.call("GET", path)
    except DemoError as error:
        if " 404:" in str(error):
            return None
        raise


def _eventually(wait: float, read: Any, done: Any) -> Any:
    """`read()` until `done(value)` (the consumers work on their own, a second or two behind), at most `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"still not there after {wait:.0f} s: {value}")
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}",
        help="the API to run against ($BASE_URL, else http://127.0.0.1:$PORT)",
    )
    args = parser.parse_args(argv)
    try:
        api = Api(args.base_url)
        lines = run(api) + order_story(api)
    except DemoError as error:
        sys.stderr.write(f"demo failed: {error}\n")
        return 1
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
