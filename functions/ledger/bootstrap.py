"""The composition root: builds the service and its AWS clients lazily, on first use, never at import.

Tests and tools swap the store with `override()`; handlers call `account_service()`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ledger.application.instants import to_iso_ms
from ledger.application.ports import EventStore
from ledger.settings import Settings

if TYPE_CHECKING:  # what a function does not use, it never imports: each module loads on first use
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.application.account_repository import AccountRepository
    from ledger.application.account_service import AccountService
    from ledger.application.pipeline.fraud_detection import FraudDetector
    from ledger.application.pipeline.notifying import AlertNotifier
    from ledger.application.pipeline.projector import AccountProjector
    from ledger.application.pipeline.reporting import Reporter
    from ledger.application.ports import (
        AccountViews,
        AlertViews,
        MessageBus,
        NotificationLog,
        Notifier,
        ReportStore,
    )

T = TypeVar("T")
_lock = threading.RLock()
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
    from ledger.application.account_service import AccountService  # noqa: PLC0415
    from ledger.application.account_service import Settings as ServiceSettings  # noqa: PLC0415

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
    return cast("DynamoDBClient", _client("dynamodb"))


def override(service: AccountService | None) -> None:
    """Use `service` (None: rebuild from the environment on next use)."""
    global _service  # noqa: PLW0603
    with _lock:
        _service = service


def jittered_backoff(attempt: int) -> None:
    """Sleep before retry `attempt` + 1: full jitter over 10 ms doubling per attempt, capped at 200 ms."""
    time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not cryptography


# --- the stream consumers and the read side ----------------------------------------------------------------------


class Components:
    """What the consumers and the read routes use, each built on first use from the settings and the clients."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._built: dict[str, Any] = {}

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def _once(self, name: str, build: Callable[[], T]) -> T:
        if name not in self._built:
            with _lock:
                if name not in self._built:
                    self._built[name] = build()
        return cast(T, self._built[name])

    def provide(self, **components: Any) -> Components:
        """Use these objects instead of building them (tests: in-memory fakes)."""
        self._built.update(components)
        return self

    @property
    def event_store(self) -> EventStore:
        return self._once("event_store", lambda: dynamodb_event_store(self.settings))

    @property
    def account_views(self) -> AccountViews:
        from ledger.adapters.dynamodb_read_models import DynamoDBAccountViews  # noqa: PLC0415

        return self._once(
            "account_views", lambda: DynamoDBAccountViews(_client("dynamodb"), self.settings.require("accounts_table"))
        )

    @property
    def alert_views(self) -> AlertViews:
        from ledger.adapters.dynamodb_read_models import DynamoDBAlertViews  # noqa: PLC0415

        return self._once(
            "alert_views", lambda: DynamoDBAlertViews(_client("dynamodb"), self.settings.require("alerts_table"))
        )

    @property
    def report_store(self) -> ReportStore:
        from ledger.adapters.dynamodb_read_models import DynamoDBReportStore  # noqa: PLC0415

        return self._once(
            "report_store", lambda: DynamoDBReportStore(_client("dynamodb"), self.settings.require("reports_table"))
        )

    @property
    def notification_log(self) -> NotificationLog:
        from ledger.adapters.dynamodb_read_models import DynamoDBNotificationLog  # noqa: PLC0415

        return self._once(
            "notification_log",
            lambda: DynamoDBNotificationLog(_client("dynamodb"), self.settings.require("notifications_table")),
        )

    @property
    def bus(self) -> MessageBus:
        from ledger.adapters.kinesis_bus import KinesisBus  # noqa: PLC0415

        return self._once("bus", lambda: KinesisBus(_client("kinesis")))

    @property
    def notifier(self) -> Notifier:
        from ledger.adapters.sns_notifier import SnsNotifier  # noqa: PLC0415

        return self._once(
            "notifier", lambda: SnsNotifier(_client("sns"), self.settings.require("notification_topic_arn"))
        )

    @property
    def repository(self) -> AccountRepository:
        from ledger.application.account_repository import AccountRepository  # noqa: PLC0415

        return self._once(
            "repository", lambda: AccountRepository(self.event_store, page_size=self.settings.snapshot_interval)
        )

    @property
    def projector(self) -> AccountProjector:
        from ledger.application.pipeline.projector import AccountProjector  # noqa: PLC0415

        return self._once("projector", lambda: AccountProjector(self.account_views, self.repository))

    @property
    def fraud_detector(self) -> FraudDetector:
        from ledger.application.pipeline.fraud_detection import FraudDetector  # noqa: PLC0415

        return self._once("fraud_detector", lambda: FraudDetector(self.event_store, self.settings.fraud_rules))

    @property
    def reporter(self) -> Reporter:
        from ledger.application.pipeline.reporting import Reporter  # noqa: PLC0415

        return self._once("reporter", lambda: Reporter(self.report_store))

    @property
    def alert_notifier(self) -> AlertNotifier:
        from ledger.application.pipeline.notifying import AlertNotifier  # noqa: PLC0415

        return self._once("alert_notifier", lambda: AlertNotifier(self.notification_log, self.notifier, now=_now_iso))


_components: Components | None = None


def components() -> Components:
    global _components  # noqa: PLW0603 - the one cached object of the composition root
    if _components is None:
        with _lock:
            if _components is None:
                _components = Components()
    return _components


def override_components(replacement: Components | None) -> None:
    global _components  # noqa: PLW0603
    with _lock:
        _components = replacement


def _client(service: str) -> Any:
    """A client with short SDK retries: retrying is the callers' business (the service reloads state first, a
    stream consumer's batch is retried by its event source mapping). boto3 costs ~0.2 s to import: paid on the
    first request, not at cold import."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))  # type: ignore[call-overload]


def _now_iso() -> str:
    return to_iso_ms(datetime.now(UTC))
