"""`python -m local.shop --rate 5 --duration 60` (`make shop`): a shop's traffic against a running `make run`, to make
the dashboard move. Customers place orders of one to three lines from a small catalog, most pay (some in two parts,
a few with two methods), some cancel; the warehouse restocks what runs short and dispatches and delivers the
shipments shipping requested; now and then a fraudulent pattern: an order over $10,000 paid in full, or one
customer placing six orders in a few seconds.

Visits run concurrently (`--clients`), so the rate holds however slow one visit is. Every command carries an
Idempotency-Key and is retried with it on a timeout or a 5xx, as a real client would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

CATALOG: Final = {  # sku: unit price in cents
    "mug-blue": 1_250,
    "tee-black": 2_400,
    "cap-red": 1_800,
    "poster-a2": 900,
    "hoodie-grey": 5_900,
    "sticker-pack": 400,
    "bottle-steel": 2_900,
    "notebook-a5": 1_100,
}
RESTOCK: Final = 40


class ShopError(Exception):
    pass


@dataclass
class Api:
    base_url: str
    timeout: float = 10.0

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """(status, body); a command is sent again with the same Idempotency-Key on a timeout or a 5xx."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(4):
            request = Request(self.base_url.rstrip("/") + path, data=data, method=method, headers=headers)  # noqa: S310
            try:
                with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the developer's own API
                    return response.status, json.load(response)
            except HTTPError as error:
                if error.code < 500 or attempt == 3:
                    return error.code, json.loads(error.read() or b"{}")
            except (URLError, TimeoutError) as error:
                if attempt == 3:
                    raise ShopError(f"cannot reach {self.base_url} ({error}); is `make run` running?") from error
            time.sleep(0.2 * 2**attempt)
        raise ShopError("unreachable")  # pragma: no cover


@dataclass
class Shop:
    """The shop's state between visits; each visit gets its own random generator (`visit(rng)`), so that the
    traffic of a seed is the same whatever the threads interleave."""

    api: Api
    rng: random.Random = field(default_factory=random.Random)
    tally: Counter[str] = field(default_factory=Counter)
    open_orders: list[str] = field(default_factory=list)
    paid_orders: list[str] = field(default_factory=list)
    dispatched: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def open_the_shop(self) -> None:
        for sku in CATALOG:
            self._ok("POST", f"/inventory/{sku}/restocks", {"quantity": RESTOCK}, "restocked")

    def visit(self, rng: random.Random) -> None:
        """One customer's visit and a little warehouse work."""
        Shop(self.api, rng, self.tally, self.open_orders, self.paid_orders, self.dispatched, self.lock).tick()

    def tick(self) -> None:
        roll = self.rng.random()
        if roll < 0.02:
            self.large_order()
        elif roll < 0.035:
            self.burst()
        else:
            self.order()
        self.warehouse()

    def order(self, customer: str | None = None, lines: int | None = None) -> str | None:
        skus = self.rng.sample(sorted(CATALOG), lines or self.rng.randint(1, 3))
        items = [{"sku": sku, "quantity": self.rng.randint(1, 3), "unit_price": CATALOG[sku]} for sku in skus]
        customer = customer or f"cus-{self.rng.randint(1, 400)}"
        status, order = self.api.call("POST", "/orders", {"customer_id": customer, "items": items})
        if status != 201:
            self._count(f"refused {status}")
            return None
        self._count("placed")
        order_id = str(order["order_id"])
        fate = self.rng.random()
        if fate < 0.75:
            self.pay(order_id, int(order["total"]))
        elif fate < 0.85:
            self._ok("POST", f"/orders/{order_id}/cancel", {}, "cancelled")
        else:
            with self.lock:
                self.open_orders.append(order_id)  # left unpaid for now
        return order_id

    def pay(self, order_id: str, total: int) -> None:
        methods = ["card", "card", "card", "paypal"]
        if total > 1 and self.rng.random() < 0.2:  # two instalments, now and then with two methods
            first = total // 2
            self._ok("POST", f"/orders/{order_id}/payments", {"amount": first, "method": "card"}, "part-paid")
            total -= first
        method = self.rng.choice(methods)
        if self._ok("POST", f"/orders/{order_id}/payments", {"amount": total, "method": method}, "paid"):
            with self.lock:
                self.paid_orders.append(order_id)

    def large_order(self) -> None:
        items = [{"sku": "hoodie-grey", "quantity": 200, "unit_price": CATALOG["hoodie-grey"]}]
        status, order = self.api.call("POST", "/orders", {"customer_id": "cus-whale", "items": items})
        if status == 201:
            self._count("large orders")
            self.pay(str(order["order_id"]), int(order["total"]))
            self._ok("POST", "/inventory/hoodie-grey/restocks", {"quantity": 200}, "restocked")

    def burst(self) -> None:
        """One customer placing six orders in a few seconds (the order velocity rule fires at the fifth)."""
        customer = f"cus-bot-{self.rng.randint(1, 9)}"
        for _ in range(6):
            self.order(customer, lines=1)
        self._count("bursts")

    def warehouse(self) -> None:
        with self.lock:
            to_dispatch = self.paid_orders.pop(0) if self.paid_orders and self.rng.random() < 0.5 else None
            to_deliver = self.dispatched.pop(0) if self.dispatched and self.rng.random() < 0.4 else None
        if to_dispatch is not None:
            dispatched = self._ok("POST", f"/shipments/{to_dispatch}/dispatch", {}, "dispatched", quiet=(404, 409))
            with self.lock:  # not requested by shipping yet: later
                (self.dispatched if dispatched else self.paid_orders).append(to_dispatch)
        if to_deliver is not None:
            self._ok("POST", f"/shipments/{to_deliver}/deliver", {}, "delivered", quiet=(409,))
        if self.rng.random() < 0.05:
            sku = self.rng.choice(sorted(CATALOG))
            self._ok("POST", f"/inventory/{sku}/restocks", {"quantity": RESTOCK}, "restocked")

    def _ok(self, method: str, path: str, body: dict[str, Any], counted: str, quiet: tuple[int, ...] = ()) -> bool:
        status, _ = self.api.call(method, path, body)
        if status < 300:
            self._count(counted)
            return True
        if status not in quiet:
            self._count(f"refused {status}")
        return False

    def _count(self, what: str) -> None:
        with self.lock:
            self.tally[what] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.shop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="customer visits a second (default 5)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to run (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="the same seed gives the same traffic")
    parser.add_argument("--clients", type=int, default=8, help="visits at once, at most (default 8)")
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}",
        help="the API ($BASE_URL, else http://127.0.0.1:$PORT)",
    )
    args = parser.parse_args(argv)
    shop = Shop(Api(args.base_url))
    seeds = random.Random(args.seed)  # noqa: S311 - traffic, not secrets
    try:
        shop.open_the_shop()
        with ThreadPoolExecutor(args.clients) as pool:
            started, visits, running = time.monotonic(), 0, []
            while time.monotonic() - started < args.duration:
                running.append(pool.submit(shop.visit, random.Random(seeds.random())))  # noqa: S311
                visits += 1
                time.sleep(max(0.0, started + visits / args.rate - time.monotonic()))
                if visits % max(1, int(args.rate * 10)) == 0:
                    sys.stdout.write(f"{time.monotonic() - started:5.0f} s  {dict(shop.tally)}\n")
                    sys.stdout.flush()
            for visit in running:
                visit.result()  # a visit that could not reach the API stops the run with its error
    except ShopError as error:
        sys.stderr.write(f"shop stopped: {error}\n")
        return 1
    except KeyboardInterrupt:
        pass
    sys.stdout.write(f"done: {dict(shop.tally)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
