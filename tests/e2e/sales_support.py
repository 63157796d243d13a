"""What the dashboard's e2e tests share: today's sales figures from the API, and one order sold (stock in, placed,
paid in full) whose effect on them is known exactly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.local_runtime import LocalRuntime

COUNTERS: Final = ("orders_placed", "orders_paid", "revenue", "items_sold", "cancelled", "refunds")
SALES_WAIT_SECONDS: Final = 20  # how far the sales read model may trail a payment (the pipeline's delay)


def today(api: ApiClient, currency: str = "USD") -> dict[str, Any]:
    """GET /analytics/sales for today (UTC, by the hour), as the dashboard asks for it."""
    midnight = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    response = api.get(f"/analytics/sales?bucket=hour&from={midnight}&currency={currency}")
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json
    return body


def settle(local_runtime: LocalRuntime | None) -> None:
    """Let what earlier tests wrote go through the pipeline first, so a baseline read now stays put (a deployed
    API has no such switch: there the test assumes no one else sells meanwhile)."""
    if local_runtime is not None:
        local_runtime.wait_until_quiet()


@dataclass(frozen=True)
class Sale:
    order_id: str
    sku: str
    quantity: int
    total: int

    def moved(self, before: dict[str, int]) -> dict[str, int]:
        """The counters of `before` once this order is counted: placed and paid once, its total and units."""
        return {
            **{name: before[name] for name in COUNTERS},
            "orders_placed": before["orders_placed"] + 1,
            "orders_paid": before["orders_paid"] + 1,
            "revenue": before["revenue"] + self.total,
            "items_sold": before["items_sold"] + self.quantity,
        }


def sell(api: ApiClient, quantity: int, unit_price: int, currency: str = "USD") -> Sale:
    """A fresh sku restocked, then an order of `quantity` of it placed and paid in full in one payment."""
    sku = unique_id("sku")
    restocked = api.post(f"/inventory/{sku}/restocks", {"quantity": quantity})
    assert restocked.status == 200, restocked.body
    line = {"sku": sku, "quantity": quantity, "unit_price": unit_price}
    placed = api.post("/orders", {"customer_id": unique_id("customer"), "currency": currency, "items": [line]})
    assert placed.status == 201, placed.body
    order_id, total = placed.json["order_id"], placed.json["total"]
    assert total == quantity * unit_price
    paid = api.post(f"/orders/{order_id}/payments", {"amount": total})
    assert (paid.status, paid.json["status"]) == (200, "paid"), paid.body
    return Sale(order_id, sku, quantity, total)


def counters(figures: dict[str, int]) -> dict[str, int]:
    return {name: figures[name] for name in COUNTERS if name in figures}


def counted(api: ApiClient, sale: Sale, before: dict[str, int], currency: str = "USD") -> dict[str, Any]:
    """Today's report once the sale's payment is counted in it (the last one read when it never is)."""
    deadline = time.monotonic() + SALES_WAIT_SECONDS
    while True:
        report = today(api, currency)
        totals = report["totals"]
        paid = totals["orders_paid"] > before["orders_paid"] and totals["revenue"] >= before["revenue"] + sale.total
        if paid or time.monotonic() > deadline:
            return report
        time.sleep(0.3)
