"""Fraud rules on event time, given/when/then: thresholds, window edges, deterministic ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.application.pipeline.fraud_detection import alerts_for
from ledger.domain.fraud import HIGH_VELOCITY, LARGE_TRANSACTION, FraudRules, Transaction, alert_id

RULES = FraudRules(large_amount=1_000, velocity_count=3, velocity_window_seconds=60)
T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def tx(number: int, seconds: float, amount: int = 10) -> Transaction:
    at = (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Transaction(f"e-{number}", "acc-1", number, "deposit", amount, None, at)


def test_a_transaction_at_the_threshold_is_large_and_one_below_is_not() -> None:
    (alert,) = alerts_for(tx(1, 0, 1_000), [], RULES)
    assert (alert.rule, alert.severity, alert.event_ids) == (LARGE_TRANSACTION, "high", ("e-1",))
    assert alerts_for(tx(1, 0, 999), [], RULES) == []


def test_the_nth_transaction_inside_the_window_raises_velocity_once() -> None:
    history = [tx(1, 0), tx(2, 10), tx(3, 20), tx(4, 30)]
    raised = [alerts_for(t, history[:i][::-1], RULES) for i, t in enumerate(history)]
    assert [len(r) for r in raised] == [0, 0, 1, 0]  # the third completes the window; the fourth adds nothing
    (alert,) = raised[2]
    assert (alert.rule, alert.event_ids, alert.amount) == (HIGH_VELOCITY, ("e-1", "e-2", "e-3"), 30)


def test_a_transaction_exactly_one_window_back_is_outside_it() -> None:
    assert alerts_for(tx(3, 60), [tx(2, 30), tx(1, 0)], RULES) == []
    assert len(alerts_for(tx(3, 59.999), [tx(2, 30), tx(1, 0)], RULES)) == 1


def test_alert_ids_depend_only_on_rule_and_triggering_event() -> None:
    first = alerts_for(tx(7, 0, 5_000), [], RULES)[0]
    again = alerts_for(tx(7, 0, 5_000), [], RULES)[0]
    assert first == again
    assert first.alert_id == alert_id(LARGE_TRANSACTION, "e-7") != alert_id(HIGH_VELOCITY, "e-7")
