"""What tests build the ledger's parts with: the settings the topology gives the functions, and the account
aggregate's service over any event store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.topology import TOPOLOGY
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import Account, Command, Event
from ledger.domain.fraud import FraudRules
from ledger.domain.order_fraud import OrderFraudRules
from ledger.kernel.ports import EventStore
from ledger.kernel.service import CommandService, ServiceSettings

_ENV = TOPOLOGY.environment

SERVICE_SETTINGS = ServiceSettings(
    snapshot_interval=int(_ENV["SNAPSHOT_INTERVAL"]),
    max_attempts=int(_ENV["COMMAND_MAX_ATTEMPTS"]),
    idempotency_ttl=timedelta(seconds=int(_ENV["IDEMPOTENCY_TTL_SECONDS"])),
    state_cache_size=int(_ENV["STATE_CACHE_SIZE"]),
    retry_budget=timedelta(milliseconds=int(_ENV["COMMAND_RETRY_BUDGET_MS"])),
)
FRAUD_RULES = FraudRules(
    large_amount=int(_ENV["FRAUD_LARGE_AMOUNT"]),
    velocity_count=int(_ENV["FRAUD_VELOCITY_COUNT"]),
    velocity_window_seconds=int(_ENV["FRAUD_VELOCITY_WINDOW_SECONDS"]),
)

ORDER_FRAUD_RULES = OrderFraudRules(
    large_amount=int(_ENV["ORDER_FRAUD_LARGE_AMOUNT"]),
    velocity_count=int(_ENV["ORDER_FRAUD_VELOCITY_COUNT"]),
    velocity_window_seconds=int(_ENV["ORDER_FRAUD_VELOCITY_WINDOW_SECONDS"]),
    late_payment_seconds=int(_ENV["ORDER_FRAUD_LATE_PAYMENT_SECONDS"]),
)

AccountService = CommandService[Command, Event, Account]


def service_settings(**overrides: Any) -> ServiceSettings:
    """The topology's settings, with `overrides` (e.g. snapshot_interval=10)."""
    return replace(SERVICE_SETTINGS, **overrides)


def account_service(
    store: EventStore, *, clock: Callable[[], datetime] | None = None, **overrides: Any
) -> AccountService:
    return CommandService(ACCOUNT, store, service_settings(**overrides), clock=clock or (lambda: datetime.now(UTC)))
