"""The composition root: builds the service and its AWS clients lazily, on first use, never at import.

Tests and tools swap the store with `override()`; handlers call `account_service()`.
"""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING

from ledger.application.account_service import AccountService
from ledger.application.account_service import Settings as ServiceSettings
from ledger.application.ports import EventStore
from ledger.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_lock = threading.Lock()
_service: AccountService | None = None


def account_service() -> AccountService:
    global _service  # noqa: PLW0603 - the one cached object of the composition root
    if _service is None:
        with _lock:
            if _service is None:
                settings = Settings.from_env()
                _service = build_service(dynamodb_event_store(settings), settings)
    return _service


def build_service(store: EventStore, settings: Settings) -> AccountService:
    return AccountService(
        store=store,
        settings=ServiceSettings(
            snapshot_interval=settings.snapshot_interval,
            max_attempts=settings.command_max_attempts,
            idempotency_ttl=settings.idempotency_ttl,
            state_cache_size=settings.state_cache_size,
        ),
        backoff=jittered_backoff,
    )


def dynamodb_event_store(settings: Settings, client: DynamoDBClient | None = None) -> EventStore:
    from ledger.adapters.dynamodb_event_store import DynamoDBEventStore  # noqa: PLC0415 - keeps botocore off import

    return DynamoDBEventStore(
        client or dynamodb_client(), event_table=settings.event_table, idempotency_table=settings.idempotency_table
    )


def dynamodb_client() -> DynamoDBClient:
    import boto3  # noqa: PLC0415 - boto3 costs ~0.2 s to import; pay it on the first request, not at cold import
    from botocore.config import Config  # noqa: PLC0415

    # Retries are the service's business (it reloads state before trying again); keep the SDK's short.
    return boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3}))


def override(service: AccountService | None) -> None:
    """Use `service` (None: rebuild from the environment on next use)."""
    global _service  # noqa: PLW0603
    with _lock:
        _service = service


def jittered_backoff(attempt: int) -> None:
    """Sleep before retry `attempt` + 1: full jitter over 10 ms doubling per attempt, capped at 200 ms."""
    time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not cryptography
