"""Fraud rules over orders, on event time: a replay of the same events raises the same alerts, each alert's id
derived from its rule and what triggered it.

- large_order: an order whose total, when it is paid (in part or in full), is at or over a threshold. A large basket
  that someone actually pays for is what costs money; an unpaid one costs nothing. Raised at the first payment that
  sees the total over the threshold, once per order.
- order_velocity: a customer placing `velocity_count` orders within `velocity_window_seconds` (card testing, bots).
  Raised when the window ending at a placement reaches exactly that count, so a burst raises one alert. Judged by
  the customer aggregate (domain/customers.py), on the customer's own stream: the orders of one customer arrive on
  different shards in any order, and only a stream of its own makes the rule a fold of the event store.
- payment_anomaly: an order paid with more than one method (split payments across cards are a classic of stolen-card
  use), or a payment arriving more than `late_payment_seconds` after the order was placed (a stale order paid by
  someone who found it). Each raised once per order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ledger.domain.customers import OrderVelocityExceeded
from ledger.domain.fraud import Alert, Severity
from ledger.domain.money import format_minor_units

LARGE_ORDER: Final = "large_order"
ORDER_VELOCITY: Final = "order_velocity"
PAYMENT_ANOMALY: Final = "payment_anomaly"
_NAMESPACE: Final = uuid.UUID("0b8a36e5-0c54-4a4b-8a6c-8f1d6f7d2b61")


@dataclass(frozen=True)
class OrderFraudRules:
    """The thresholds (the topology sets them: ORDER_FRAUD_LARGE_AMOUNT and the like)."""

    large_amount: int  # minor units, e.g. 1_000_000
    velocity_count: int
    velocity_window_seconds: int
    late_payment_seconds: int


@dataclass(frozen=True)
class Payment:
    """A payment on an order as the rules see it."""

    event_id: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    method: str
    total: int  # the order's total when it was paid
    placed_at: str
    occurred_at: str


def alert_id(rule: str, what: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{rule}:{what}"))


def payment_alerts(payment: Payment, earlier: list[Payment], rules: OrderFraudRules) -> list[Alert]:
    """The alerts `payment` raises, given the order's payments before it (oldest first)."""
    alerts: list[Alert] = []
    if payment.total >= rules.large_amount and all(p.total < rules.large_amount for p in earlier):
        alerts.append(
            _alert(
                payment,
                rule=LARGE_ORDER,
                severity="high",
                kind=LARGE_ORDER,
                amount=payment.total,
                description=f"An order of {format_minor_units(payment.total, payment.currency)} paid, at or over the "
                f"{format_minor_units(rules.large_amount, payment.currency)} threshold.",
            )
        )
    methods = {p.method for p in earlier}
    if methods and payment.method not in methods and len(methods) == 1:
        alerts.append(
            _alert(
                payment,
                rule=PAYMENT_ANOMALY,
                severity="medium",
                kind=f"{PAYMENT_ANOMALY}:methods",
                amount=payment.amount,
                description=f"The order is paid with several methods: {', '.join(sorted({*methods, payment.method}))}.",
            )
        )
    if _late(payment, rules) and not any(_late(p, rules) for p in earlier):
        alerts.append(
            _alert(
                payment,
                rule=PAYMENT_ANOMALY,
                severity="low",
                kind=f"{PAYMENT_ANOMALY}:late",
                amount=payment.amount,
                description=f"A payment arrived more than {rules.late_payment_seconds} seconds after the order "
                "was placed.",
            )
        )
    return alerts


def _late(payment: Payment, rules: OrderFraudRules) -> bool:
    waited = datetime.fromisoformat(payment.occurred_at) - datetime.fromisoformat(payment.placed_at)
    return waited > timedelta(seconds=rules.late_payment_seconds)


def _alert(payment: Payment, *, rule: str, severity: Severity, kind: str, amount: int, description: str) -> Alert:
    return Alert(
        alert_id=alert_id(kind, payment.order_id),
        rule=rule,
        severity=severity,
        account_id=None,
        amount=amount,
        event_ids=(payment.event_id,),
        raised_at=payment.occurred_at,
        description=description,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        currency=payment.currency,
    )


def velocity_alert(exceeded: OrderVelocityExceeded, event_id: str) -> Alert:
    """The alert of a customer whose orders came too fast (the customer decided it: domain/customers.py); named by
    the event that recorded it, so every delivery and every rebuild gives the same alert."""
    return Alert(
        alert_id=alert_id(ORDER_VELOCITY, event_id),
        rule=ORDER_VELOCITY,
        severity="medium",
        account_id=None,
        amount=0,
        event_ids=exceeded.event_ids,
        raised_at=exceeded.placed_at,
        description=f"Customer {exceeded.customer_id!r} placed {len(exceeded.event_ids)} orders within "
        f"{exceeded.window_seconds} seconds.",
        order_id=exceeded.order_id,
        customer_id=exceeded.customer_id,
    )
