"""Every aggregate's service and the order consumers (projector, publisher, inventory, shipping, analytics) through
their real handlers, on one in-memory store: what the order pipeline's unit tests drive."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.topology import ALERT_STREAM, FULFILMENT_STREAM, ORDER_STREAM
from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import (
    InMemoryAlertViews,
    InMemoryBus,
    InMemoryNotificationLog,
    InMemorySalesStore,
    InMemoryStateViews,
    RecordingNotifier,
)
from ledger.application.orders import ORDER
from ledger.application.stock import STOCK
from ledger.components import (
    ALERT_VIEWS,
    NOTIFICATION_LOG,
    NOTIFIER,
    ORDER_VIEWS,
    SALES_STORE,
    STOCK_VIEWS,
)
from ledger.domain.orders import Order
from ledger.domain.stock import Stock
from ledger.entrypoints import alerts, analytics, inventory, notifications, order_fraud, projector, publisher, shipping
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandContext, CommandService
from tests.ledger_fixtures import SERVICE_SETTINGS
from tests.unit.pipeline_support import dynamodb_event, invoke, kinesis_event

CTX = CommandContext("corr", "req")
CONSUMERS: dict[str, tuple[Any, ...]] = {
    ORDER_STREAM.name: (inventory, shipping, analytics, order_fraud),
    FULFILMENT_STREAM.name: (inventory, shipping),
    ALERT_STREAM.name: (alerts, notifications),
}


@dataclass
class Shop:
    """Every aggregate's service and the fulfilment consumers, on one in-memory store; `settle` delivers what is
    pending (stream records, then Kinesis messages) until nothing new happens, each batch `repeats` times."""

    store: InMemoryEventStore = field(default_factory=InMemoryEventStore)
    bus: InMemoryBus = field(default_factory=InMemoryBus)
    orders_view: InMemoryStateViews[Order] = field(default_factory=lambda: InMemoryStateViews(lambda o: o.placed_at))
    stock_view: InMemoryStateViews[Stock] = field(default_factory=InMemoryStateViews)
    sales: InMemorySalesStore = field(default_factory=InMemorySalesStore)
    alert_views: InMemoryAlertViews = field(default_factory=InMemoryAlertViews)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    repeats: int = 1
    shuffle: random.Random | None = None
    delivered: set[str] = field(default_factory=set)
    offsets: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (
            bootstrap.reset()
            .provide(bootstrap.EVENT_STORE, self.store)
            .provide(bootstrap.COMMAND_STORE, self.store)
            .provide(bootstrap.BUS, self.bus)
            .provide(ORDER_VIEWS, self.orders_view)
            .provide(STOCK_VIEWS, self.stock_view)
            .provide(SALES_STORE, self.sales)
            .provide(ALERT_VIEWS, self.alert_views)
            .provide(NOTIFICATION_LOG, InMemoryNotificationLog())
            .provide(NOTIFIER, self.notifier)
        )

    def run(self, aggregate: Aggregate[Any, Any, Any], command: Any, *, at: datetime | None = None) -> None:
        """Run `command` now, or as if at `at` (event time: what the fraud rules judge)."""
        clock = (lambda: at) if at is not None else (lambda: datetime.now(UTC))
        CommandService(aggregate, self.store, SERVICE_SETTINGS, clock=clock).execute(command, CTX)

    def settle(self) -> None:
        for _ in range(20):
            pending = [e for e in self.store.events() if e.event_id not in self.delivered]
            if not pending:
                return
            self.delivered.update(e.event_id for e in pending)
            self._deliver_stream_records(pending)
            for stream, handlers in CONSUMERS.items():
                messages = self.bus.streams.get(stream, [])[self.offsets.get(stream, 0) :]
                self.offsets[stream] = self.offsets.get(stream, 0) + len(messages)
                for handler in handlers:
                    for _ in range(self.repeats):
                        assert invoke(handler.lambda_handler, kinesis_event(messages)) == []
        raise AssertionError("the shop never settled")

    def _deliver_stream_records(self, pending: list[EventRecord]) -> None:
        batch = dynamodb_event(pending)
        for _ in range(self.repeats):
            records = list(batch["Records"])
            if self.shuffle is not None:  # the projector does not need order
                self.shuffle.shuffle(records)
            assert invoke(projector.lambda_handler, {"Records": records}) == []
        assert invoke(publisher.lambda_handler, batch) == []

    def order(self, order_id: str) -> Order:
        return CommandService(ORDER, self.store, SERVICE_SETTINGS).reader.get(order_id)

    def stock(self, sku: str) -> Stock:
        return CommandService(STOCK, self.store, SERVICE_SETTINGS).reader.get(sku)

    def events(self, aggregate: str, aggregate_id: str) -> list[str]:
        return [
            e.event_type for e in self.store.events() if (e.aggregate_type, e.aggregate_id) == (aggregate, aggregate_id)
        ]
