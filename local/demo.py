"""`python -m local.demo [--base-url URL]` (`make demo`): the seed scenario against a running API.

Opens an account with $100.00, deposits $50.00, withdraws $20.00, then prints the balance history: each event read
back through GET /accounts/{id}/events, with the balance after it from the temporal read GET /accounts/{id}?version=N,
and the final balance ($130.00), derived by the service from the events alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}",
        help="the API to run against ($BASE_URL, else http://127.0.0.1:$PORT)",
    )
    args = parser.parse_args(argv)
    try:
        lines = run(Api(args.base_url))
    except DemoError as error:
        sys.stderr.write(f"demo failed: {error}\n")
        return 1
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
