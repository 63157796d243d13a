"""Fraud detection over public event messages: the domain's rules, fed with the account's earlier transactions read
from the event store (immutable, so a replay sees the same window and raises the same alerts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ledger.application.messages import EventMessage
from ledger.application.ports import EventStore
from ledger.application.records import EventRecord
from ledger.domain.accounts import AGGREGATE_TYPE
from ledger.domain.fraud import Alert, FraudRules, Transaction, TransactionKind, high_velocity, large_transaction

_KINDS: dict[str, TransactionKind] = {"MoneyDeposited": "deposit", "MoneyWithdrawn": "withdrawal"}


def transaction_of(
    *, event_id: str, account_id: str, version: int, event_type: str, data: dict[str, object], at: str
) -> Transaction | None:
    kind = _KINDS.get(event_type)
    amount = data.get("amount")
    if kind is None or not isinstance(amount, int) or isinstance(amount, bool):
        return None
    return Transaction(event_id, account_id, version, kind, amount, None, at)


def transaction_of_message(message: EventMessage) -> Transaction | None:
    if message.aggregate_type != AGGREGATE_TYPE:
        return None
    return transaction_of(
        event_id=message.event_id,
        account_id=message.aggregate_id,
        version=message.version,
        event_type=message.type,
        data=dict(message.data),
        at=message.occurred_at,
    )


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
    rules: FraudRules = field(default_factory=FraudRules)

    def alerts(self, message: EventMessage) -> list[Alert] | None:
        """The alerts this event raises; None when it is not an account transaction."""
        transaction = transaction_of_message(message)
        if transaction is None:
            return None
        return alerts_for(transaction, self._earlier(transaction), self.rules)

    def _earlier(self, transaction: Transaction) -> Iterable[Transaction]:
        """The account's transactions before this one, newest first, read lazily from the event store."""
        page = self.rules.velocity_count + 2
        for item in self.store.read_backward(
            transaction.account_id, to_version=transaction.version - 1, page_size=page, first_page=page
        ):
            if isinstance(item, EventRecord):
                earlier = transaction_of(
                    event_id=item.event_id,
                    account_id=item.aggregate_id,
                    version=item.version,
                    event_type=item.event_type,
                    data=dict(item.data),
                    at=item.occurred_at,
                )
                if earlier is not None:
                    yield earlier
