"""A small workload that goes through every function and every path of theirs that touches AWS on success: every
command route (with Idempotency-Keys, a replay among them), every read route (the temporal reads and the alerts by
account and by order included), and through the pipeline every consumer: the projector, the publisher, account
fraud (a large deposit), reporting, alerts and notifications (the alerts raised), inventory (a backorder filled by a
restock, a cancelled order released), order fraud (a large order, a burst from one customer), analytics and shipping
(an order paid, its shipment dispatched and delivered)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tests.e2e.client import ApiClient, ApiResponse, unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import LARGE_AMOUNT, eventually

LARGE_ORDER = {"quantity": 200, "unit_price": 5_900}  # $11,800.00: over the topology's ORDER_FRAUD_LARGE_AMOUNT
BURST = 6  # orders from one customer in a few seconds: the order velocity rule fires at the fifth


@dataclass(frozen=True)
class Workload:
    account_id: str
    order_id: str  # paid, shipped and delivered
    large_order_id: str  # raises a large_order alert
    sku: str  # restocked, reserved, released


def _ok(response: ApiResponse, *statuses: int) -> Any:
    assert response.status in (statuses or (200, 201)), (response.status, response.body)
    return response.json


def _command(api: ApiClient, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    return _ok(api.post(path, body or {}, headers={"Idempotency-Key": key or str(uuid.uuid4())}))


def drive_every_function(runtime: LocalRuntime) -> Workload:
    api = runtime.client()
    account_id = _accounts(api)
    order_id, large_order_id, sku = _orders(api, runtime)
    runtime.wait_until_quiet(timeout=120)
    workload = Workload(account_id, order_id, large_order_id, sku)
    _reads(api, workload)
    runtime.wait_until_quiet(timeout=120)
    return workload


def _accounts(api: ApiClient) -> str:
    account_id = unique_id("least-privilege")
    _command(api, "/accounts", {"owner": "Least Privilege", "initial_balance": 10_000, "account_id": account_id})
    key = str(uuid.uuid4())
    _command(api, f"/accounts/{account_id}/deposits", {"amount": 5_000}, key)
    _command(api, f"/accounts/{account_id}/deposits", {"amount": 5_000}, key)  # a replay: the recorded outcome
    _command(api, f"/accounts/{account_id}/withdrawals", {"amount": 2_000})
    _command(api, f"/accounts/{account_id}/deposits", {"amount": LARGE_AMOUNT})  # account fraud: large transaction
    closed = unique_id("closed")
    _command(api, "/accounts", {"owner": "Closed", "initial_balance": 0, "account_id": closed})
    _command(api, f"/accounts/{closed}/close")
    return account_id


def _orders(api: ApiClient, runtime: LocalRuntime) -> tuple[str, str, str]:
    plenty, short, big = unique_id("sku"), unique_id("sku"), unique_id("sku")
    for sku, quantity in ((plenty, 10), (short, 1), (big, LARGE_ORDER["quantity"])):
        _command(api, f"/inventory/{sku}/restocks", {"quantity": quantity})
    lines = [{"sku": plenty, "quantity": 2, "unit_price": 1_250}, {"sku": short, "quantity": 2, "unit_price": 999}]
    order = _command(api, "/orders", {"customer_id": unique_id("customer"), "items": lines})
    order_id = order["order_id"]
    _command(api, f"/orders/{order_id}/payments", {"amount": order["total"]})
    _command(api, f"/inventory/{short}/restocks", {"quantity": 5})  # fills the backordered line
    large = _command(api, "/orders", {"customer_id": unique_id("whale"), "items": [{"sku": big, **LARGE_ORDER}]})
    _command(api, f"/orders/{large['order_id']}/payments", {"amount": large["total"]})
    cancelled = _command(api, "/orders", {"customer_id": unique_id("customer"), "items": lines[:1]})
    _command(api, f"/orders/{cancelled['order_id']}/cancel")
    bot = unique_id("bot")
    for _ in range(BURST):
        _command(api, "/orders", {"customer_id": bot, "items": [{"sku": plenty, "quantity": 1, "unit_price": 1_250}]})
    runtime.wait_until_quiet(timeout=120)
    shipment = eventually(lambda: _shipment(api, order_id), timeout=30)
    _command(api, f"/shipments/{shipment}/dispatch")
    _command(api, f"/shipments/{shipment}/deliver")
    return order_id, large["order_id"], plenty


def _shipment(api: ApiClient, order_id: str) -> str | None:
    response = api.get(f"/orders/{order_id}/shipment")
    return str(response.json["shipment_id"]) if response.status == 200 else None


def _reads(api: ApiClient, workload: Workload) -> None:
    account, order = workload.account_id, workload.order_id
    now = quote(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    eventually(lambda: api.get(f"/alerts?order_id={workload.large_order_id}").json["alerts"], timeout=30)
    eventually(lambda: api.get(f"/alerts?account_id={account}").json["alerts"], timeout=30)
    for path in (
        "/accounts",
        f"/accounts/{account}",
        f"/accounts/{account}?version=2",
        f"/accounts/{account}?as_of={now}",
        f"/accounts/{account}/events",
        f"/accounts/{account}/reports/daily/{today}",
        f"/reports/daily/{today}",
        "/alerts",
        "/orders",
        f"/orders/{order}",
        f"/orders/{order}?as_of={now}",
        f"/orders/{order}/events",
        f"/orders/{order}/shipment",
        "/inventory",
        f"/inventory/{workload.sku}",
        f"/analytics/sales?bucket=hour&from={quote(today + 'T00:00:00Z')}",
        "/dashboard",
        "/health",
        "/openapi.json",
    ):
        _ok(api.get(path), 200)
    _ok(api.get("/no-such-route"), 404)
