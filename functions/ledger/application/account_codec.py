"""Stored shapes of the account's events and state, and the upcasters from their older versions."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ledger.application.codec import CodecError, EventCodec, EventType, from_json
from ledger.application.records import JsonObject
from ledger.domain.accounts import Account as AccountState
from ledger.domain.accounts import (
    AccountClosed,
    AccountCreated,
    Event,
    MoneyDeposited,
    MoneyWithdrawn,
)
from ledger.domain.money import DEFAULT_CURRENCY


def account_created_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """AccountCreated v1 (until the multi-currency release) had no currency, since every account was in US
    dollars, and called the opening amount `initial_deposit`. v2 names it `initial_balance` and states the
    currency."""
    upcasted = {key: value for key, value in data.items() if key != "initial_deposit"}
    upcasted["initial_balance"] = data["initial_deposit"]
    upcasted.setdefault("currency", DEFAULT_CURRENCY)
    return upcasted


ACCOUNT_EVENTS: Final = EventCodec[Event](
    [
        EventType("AccountCreated", AccountCreated, schema_version=2, upcasters={1: account_created_v1_to_v2}),
        EventType("MoneyDeposited", MoneyDeposited),
        EventType("MoneyWithdrawn", MoneyWithdrawn),
        EventType("AccountClosed", AccountClosed),
    ]
)

# Bump when AccountState changes shape: older snapshots then no longer decode and are rebuilt from events.
STATE_SCHEMA_VERSION: Final = 1


def encode_state(state: AccountState) -> dict[str, Any]:
    return dataclasses.asdict(state)


def decode_state(schema_version: int, data: JsonObject) -> AccountState | None:
    """The state a snapshot or idempotency record holds, or None when it no longer decodes."""
    if schema_version != STATE_SCHEMA_VERSION:
        return None
    try:
        return from_json(AccountState, data)
    except CodecError:
        return None
