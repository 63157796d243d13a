"""Fraud rules over account transactions, on event time: a replay of the same events raises the same alerts.

An alert's id is derived from its rule and the event that triggered it, so however often that event is delivered,
the alert is the same alert.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

LARGE_TRANSACTION: Final = "large_transaction"
HIGH_VELOCITY: Final = "high_velocity"
Severity = Literal["low", "medium", "high"]
TransactionKind = Literal["deposit", "withdrawal"]

_ALERT_NAMESPACE: Final = uuid.UUID("6f0d6a52-3c1e-4d7e-9a51-5d2f0c0b9e11")


@dataclass(frozen=True)
class Transaction:
    """A deposit or withdrawal as the rules see it."""

    event_id: str
    account_id: str
    version: int
    kind: TransactionKind
    amount: int  # minor units
    currency: str | None
    occurred_at: str  # UTC ISO-8601 with milliseconds


@dataclass(frozen=True)
class FraudRules:
    """The thresholds (the topology sets them: FRAUD_LARGE_AMOUNT and the like)."""

    large_amount: int  # minor units, e.g. 1_000_000 for $10,000.00
    velocity_count: int
    velocity_window_seconds: int


@dataclass(frozen=True)
class Alert:
    """A fraud alert on an account or on an order (and its customer): what it is about says which."""

    alert_id: str
    rule: str
    severity: Severity
    account_id: str | None  # the account (an account alert), None for an order alert
    amount: int  # minor units: the triggering amount, or the window's total (velocity rules)
    event_ids: tuple[str, ...]  # the events behind the alert, the triggering one last
    raised_at: str  # the triggering event's occurred_at: event time, never the clock
    description: str
    order_id: str | None = None  # the order (an order alert)
    customer_id: str | None = None  # the order's customer
    currency: str | None = None  # the amount's currency, where the alert knows it

    @property
    def subject(self) -> str:
        """What the alert is about (an account's or an order's id): its partition key on the alerts stream."""
        return self.account_id or self.order_id or self.alert_id


def alert_id(rule: str, triggering_event_id: str) -> str:
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{rule}:{triggering_event_id}"))


def large_transaction(transaction: Transaction, rules: FraudRules) -> Alert | None:
    if transaction.amount < rules.large_amount:
        return None
    return Alert(
        alert_id=alert_id(LARGE_TRANSACTION, transaction.event_id),
        rule=LARGE_TRANSACTION,
        severity="high",
        account_id=transaction.account_id,
        amount=transaction.amount,
        event_ids=(transaction.event_id,),
        raised_at=transaction.occurred_at,
        description=f"A {transaction.kind} of {transaction.amount} minor units, at or over the "
        f"{rules.large_amount} threshold.",
    )


def high_velocity(window: list[Transaction], rules: FraudRules) -> Alert | None:
    """`window`: the account's transactions in the `velocity_window_seconds` ending at the last one (that one
    included), oldest first. The alert fires when the window reaches `velocity_count` exactly, so one burst raises
    one alert rather than one per transaction beyond the threshold."""
    if len(window) != rules.velocity_count:
        return None
    trigger = window[-1]
    return Alert(
        alert_id=alert_id(HIGH_VELOCITY, trigger.event_id),
        rule=HIGH_VELOCITY,
        severity="medium",
        account_id=trigger.account_id,
        amount=sum(t.amount for t in window),
        event_ids=tuple(t.event_id for t in window),
        raised_at=trigger.occurred_at,
        description=f"{len(window)} transactions within {rules.velocity_window_seconds} seconds.",
    )
