"""Order fraud detection over order and customer events (domain/order_fraud.py has the rules): a payment is judged
against its order's own history, read from the event store (immutable, so a replay raises the same alerts); an
order placed is told to its customer (a command), whose stream decides the velocity rule; the customer's
OrderVelocityExceeded becomes the alert."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ledger.application.customers import CUSTOMER
from ledger.application.orders import ORDER
from ledger.application.ports import AlertViews
from ledger.domain.customers import OrderVelocityExceeded, RecordPlacement
from ledger.domain.fraud import Alert
from ledger.domain.order_fraud import OrderFraudRules, Payment, payment_alerts, velocity_alert
from ledger.domain.orders import OrderPlaced, PaymentReceived
from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.ports import EventStore
from ledger.kernel.reactions import Reaction
from ledger.kernel.records import StreamId

_PAGE: Final = 200


def customer_reactions(event: RecordedEvent[Any], rules: OrderFraudRules) -> list[Reaction]:
    """An order placed is recorded on its customer (who decides the velocity rule)."""
    placed = event.event
    if event.record.aggregate_type != ORDER.type or not isinstance(placed, OrderPlaced):
        return []
    record = RecordPlacement(
        placed.customer_id,
        placed.order_id,
        event.occurred_at,
        event.event_id,
        rules.velocity_count,
        rules.velocity_window_seconds,
    )
    return [Reaction(CUSTOMER, record, key="placement")]


def payments_of(history: Sequence[RecordedEvent[Any]]) -> list[Payment]:
    """The payments of one order's history, oldest first."""
    customer = next((e.event.customer_id for e in history if isinstance(e.event, OrderPlaced)), "")
    return [
        Payment(
            e.event_id,
            e.event.order_id,
            customer,
            e.event.amount,
            e.event.currency,
            e.event.method,
            e.event.total,
            e.event.placed_at,
            e.occurred_at,
        )
        for e in history
        if isinstance(e.event, PaymentReceived)
    ]


def velocity_alerts_of(events: Sequence[RecordedEvent[Any]]) -> dict[str, list[Alert]]:
    return {
        e.event_id: [velocity_alert(e.event, e.event_id)] for e in events if isinstance(e.event, OrderVelocityExceeded)
    }


@dataclass
class OrderFraudDetector:
    store: EventStore
    registry: Registry
    rules: OrderFraudRules

    def alerts(self, events: Sequence[RecordedEvent[Any]]) -> dict[str, list[Alert]]:
        """{event id: the alerts it raises} for a batch of order and customer events (any order, repeats allowed)."""
        raised = velocity_alerts_of(events)
        paid_orders: dict[str, list[str]] = {}
        for event in events:
            if event.record.aggregate_type == ORDER.type and isinstance(event.event, PaymentReceived):
                paid_orders.setdefault(event.aggregate_id, []).append(event.event_id)
        for order_id, event_ids in paid_orders.items():
            payments = payments_of(self._history(order_id))
            for index, payment in enumerate(payments):
                if payment.event_id in event_ids:
                    raised[payment.event_id] = payment_alerts(payment, payments[:index], self.rules)
        return raised

    def _history(self, order_id: str) -> list[RecordedEvent[Any]]:
        history: list[RecordedEvent[Any]] = []
        after = 0
        while True:
            records = self.store.read_forward(StreamId(ORDER.type, order_id), after=after, limit=_PAGE)
            if not records:
                return history
            history += [e for e in map(self.registry.decode, records) if e is not None]
            after = records[-1].version


@dataclass
class OrderAlertsReplay:
    """One order's (payment rules) or customer's (velocity) history through the rules, in a rebuild."""

    views: AlertViews
    rules: OrderFraudRules
    history: list[RecordedEvent[Any]] = field(default_factory=list)
    reads_events: bool = True

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        self.history.extend(page)

    def finish(self) -> int:
        raised = [alert for alerts in velocity_alerts_of(self.history).values() for alert in alerts]
        payments = payments_of(self.history)
        for index, payment in enumerate(payments):
            raised += payment_alerts(payment, payments[:index], self.rules)
        return sum(int(self.views.put_if_absent(alert)) for alert in raised)
