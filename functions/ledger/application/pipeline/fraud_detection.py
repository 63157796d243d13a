"""Fraud detection over public event messages: the domain's rules, fed with the account's earlier transactions read
from the event store (immutable, so a replay sees the same window and raises the same alerts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    return transaction_of_record(message.to_record())


def transaction_of_record(record: EventRecord) -> Transaction | None:
    if record.aggregate_type != AGGREGATE_TYPE:
        return None
    return transaction_of(
        event_id=record.event_id,
        account_id=record.aggregate_id,
        version=record.version,
        event_type=record.event_type,
        data=dict(record.data),
        at=record.occurred_at,
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
        return self.alerts_for_account([transaction])[transaction.event_id]

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
        history: list[Transaction] = []
        before_oldest = 0
        for item in self.store.read_backward(
            newest.account_id, to_version=newest.version, page_size=page, first_page=page
        ):
            if not isinstance(item, EventRecord):
                continue
            if item.version < oldest.version and (
                datetime.fromisoformat(item.occurred_at) <= window_start or before_oldest > self.rules.velocity_count
            ):
                break
            transaction = transaction_of_record(item)
            if transaction is not None:
                history.append(transaction)
                before_oldest += transaction.version < oldest.version
        return history
