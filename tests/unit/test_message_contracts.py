"""The public messages are a documented contract: everything the publisher and fraud detection put on the streams
validates against the JSON Schemas under docs/schemas, and those schemas refuse what breaks the contract."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.alert_messages import alert_to_json
from ledger.application.heartbeats import HEARTBEAT
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import CloseAccount, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.fraud import Transaction, high_velocity, large_transaction
from ledger.domain.heartbeats import RecordHeartbeat
from ledger.kernel.messages import message_of
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandContext, CommandService
from tests.ledger_fixtures import FRAUD_RULES, SERVICE_SETTINGS, account_service

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def published_messages() -> list[dict[str, Any]]:
    store = InMemoryEventStore()
    store.put_raw_event(  # written by an older release: schema version 1, upcast on the way out
        EventRecord(
            "Account",
            "old-1",
            1,
            "00000000-0000-4000-8000-000000000001",
            "AccountCreated",
            1,
            "2020-01-01T00:00:00.000Z",
            {"account_id": "old-1", "owner": "Old", "initial_deposit": 5},
            {"correlation_id": "c", "causation_id": "r"},
        )
    )
    service = account_service(store)
    for command in (
        OpenAccount("acc-1", "Ann", "EUR", 100),
        DepositMoney("acc-1", 50, "salary"),
        WithdrawMoney("acc-1", 150),
        CloseAccount("acc-1"),
        DepositMoney("old-1", 1),
    ):
        service.execute(command, CommandContext("corr", "req"))
    return [json.loads(message_of(record, AGGREGATES).to_json()) for record in store.events()]


def test_every_published_message_matches_the_event_message_schema() -> None:
    schema = validator("event-message.schema.json")
    messages = published_messages()
    assert {m["type"] for m in messages} == {"AccountCreated", "MoneyDeposited", "MoneyWithdrawn", "AccountClosed"}
    for message in messages:
        schema.validate(message)


def heartbeat_message() -> dict[str, Any]:
    store = InMemoryEventStore()
    beat = RecordHeartbeat("2026-11-26T08:30:00Z", "2026-11-26T08:30:00Z")
    CommandService(HEARTBEAT, store, SERVICE_SETTINGS).execute(beat, CommandContext("firing", "firing"))
    (record,) = store.events()
    message: dict[str, Any] = json.loads(message_of(record, AGGREGATES).to_json())
    return message


def test_the_heartbeat_every_stream_carries_matches_the_event_message_schema() -> None:
    schema = validator("event-message.schema.json")
    schema.validate(heartbeat_message())
    for breakage in ({"surprise": 1}, {"beat_id": 7}):
        broken = heartbeat_message()
        broken["data"].update(breakage)
        with pytest.raises(ValidationError):
            schema.validate(broken)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda m: m.pop("event_id"),
        lambda m: m.update(version=0),
        lambda m: m.update(occurred_at="2026-11-26 08:00"),
        lambda m: m["data"].update(amount=1.5),
        lambda m: m.update(schema_version=9),
        lambda m: m.update(surprise=True),
    ],
)
def test_the_event_message_schema_refuses_a_broken_message(breakage: Any) -> None:
    schema = validator("event-message.schema.json")
    message = next(m for m in published_messages() if m["type"] == "MoneyDeposited")
    breakage(message)
    with pytest.raises(ValidationError):
        schema.validate(message)


def test_alerts_match_the_alert_message_schema() -> None:
    schema = validator("alert-message.schema.json")
    rules = replace(FRAUD_RULES, velocity_count=2)
    first = Transaction("e-1", "acc-1", 2, "deposit", 5_000_000, None, "2026-11-26T08:00:00.000Z")
    second = Transaction("e-2", "acc-1", 3, "withdrawal", 10, None, "2026-11-26T08:00:01.000Z")
    alerts = [large_transaction(first, rules), high_velocity([first, second], rules)]
    for alert in alerts:
        assert alert is not None
        schema.validate(json.loads(alert_to_json(alert)))
        # with the correlation id of its triggering event, as fraud detection puts it (docs/tracing.md)
        schema.validate(json.loads(alert_to_json(alert, "req-42")))
