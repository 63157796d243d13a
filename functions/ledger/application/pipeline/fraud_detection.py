"""Fraud detection over account events: the domain's rules, fed with the account's earlier transactions read from the
event store (immutable, so a replay sees the same window and raises the same alerts). Every event is read through
its codec, so a transaction stored in an older schema counts like a new one."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledger.application.accounts import ACCOUNT
from ledger.application.customers import CUSTOMER
from ledger.application.orders import ORDER
from ledger.application.pipeline.order_fraud import OrderAlertsReplay
from ledger.application.ports import AlertViews
from ledger.domain.accounts import MoneyDeposited, MoneyWithdrawn
from ledger.domain.fraud import Alert, FraudRules, Transaction, TransactionKind, high_velocity, large_transaction
from ledger.domain.order_fraud import OrderFraudRules
from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, StreamId


def transaction_of(event: RecordedEvent[Any]) -> Transaction | None:
    """The deposit or withdrawal an event is; None for any other event."""
    if event.record.aggregate_type != ACCOUNT.type:
        return None
    kind: TransactionKind
    if isinstance(event.event, MoneyDeposited):
        kind, amount = "deposit", event.event.amount
    elif isinstance(event.event, MoneyWithdrawn):
        kind, amount = "withdrawal", event.event.amount
    else:
        return None
    return Transaction(event.event_id, event.aggregate_id, event.version, kind, amount, None, event.occurred_at)


def alerts_for(transaction: Transaction, earlier: Iterable[Transaction], rules: FraudRules) -> list[Alert]:
    """The alerts `transaction` raises, given the account's transactions before it, newest first."""
    alerts = [alert for alert in [large_transaction(transaction, rules)] if alert is not None]
    window_start = datetime.fromisoformat(transaction.occurred_at) - timedelta(seconds=rules.velocity_window_seconds)
    window = [transaction]
    for previous in earlier:
        if datetime.fromisoformat(previous.occurred_at) <= window_start or len(window) > rules.velocity_count:
            break
        window.append(previous)
    velocity = high_velocity(window[::-1], rules)
    if velocity is not None:
        alerts.append(velocity)
    return alerts


@dataclass
class FraudDetector:
    store: EventStore
    registry: Registry
    rules: FraudRules

    def transaction_of(self, record: EventRecord) -> Transaction | None:
        event = self.registry.decode(record)
        return transaction_of(event) if event is not None else None

    def alerts_for_account(self, transactions: Sequence[Transaction]) -> dict[str, list[Alert]]:
        """{event id: the alerts it raises} for transactions of one account (a batch's, in any order, repeats
        allowed), with one read of the account's history: the events up to the newest of them, back to one
        window before the oldest."""
        unique = sorted({t.event_id: t for t in transactions}.values(), key=lambda t: t.version)
        history = self._history(unique[0], unique[-1])
        return {t.event_id: alerts_for(t, [h for h in history if h.version < t.version], self.rules) for t in unique}

    def _history(self, oldest: Transaction, newest: Transaction) -> list[Transaction]:
        """The account's transactions from `newest` back to the window before `oldest`, newest first."""
        window_start = datetime.fromisoformat(oldest.occurred_at) - timedelta(
            seconds=self.rules.velocity_window_seconds
        )
        page = newest.version - oldest.version + self.rules.velocity_count + 2
        stream = StreamId(ACCOUNT.type, newest.account_id)
        history: list[Transaction] = []
        before_oldest = 0
        for item in self.store.read_backward(stream, to_version=newest.version, page_size=page, first_page=page):
            if not isinstance(item, EventRecord):
                continue
            if item.version < oldest.version and (
                datetime.fromisoformat(item.occurred_at) <= window_start or before_oldest > self.rules.velocity_count
            ):
                break
            transaction = self.transaction_of(item)
            if transaction is not None:
                history.append(transaction)
                before_oldest += transaction.version < oldest.version
        return history


@dataclass
class AlertsProjection:
    """The alerts read model rebuilt from the event store with the fraud rules the live consumers apply: accounts'
    and orders' (the order velocity rule, across a customer's orders, once every order is replayed)."""

    views: AlertViews
    rules: FraudRules
    order_rules: OrderFraudRules

    @property
    def reads_events(self) -> bool:
        return True

    @property
    def partial_replay_days(self) -> int | None:
        return 0  # the rules look at each account's and order's earlier events

    @property
    def aggregate_types(self) -> frozenset[str]:
        return frozenset({ACCOUNT.type, ORDER.type, CUSTOMER.type})

    def reset(self) -> int:
        return self.views.clear()

    def replay(self, stream: StreamId) -> _AlertsReplay | OrderAlertsReplay:
        if stream.aggregate_type == ACCOUNT.type:
            return _AlertsReplay(self.views, self.rules, deque(maxlen=self.rules.velocity_count + 1))
        return OrderAlertsReplay(self.views, self.order_rules)

    def complete(self) -> int:
        return 0


@dataclass
class _AlertsReplay:
    """One account's history through the rules, the window carried from page to page."""

    views: AlertViews
    rules: FraudRules
    earlier: deque[Transaction]
    stored: int = 0
    reads_events: bool = True

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        for event in page:
            transaction = transaction_of(event)
            if transaction is None:
                continue
            for alert in alerts_for(transaction, reversed(self.earlier), self.rules):
                self.stored += int(self.views.put_if_absent(alert))
            self.earlier.append(transaction)

    def finish(self) -> int:
        return self.stored
