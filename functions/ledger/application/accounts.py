"""The account aggregate's declaration: its stored shapes (events with their upcasters, state) and its decider."""

from __future__ import annotations

from typing import Any, Final

from ledger.domain.accounts import (
    Account,
    AccountAlreadyExistsError,
    AccountClosed,
    AccountCreated,
    AccountNotFoundError,
    Command,
    DepositMoney,
    Event,
    MoneyDeposited,
    MoneyWithdrawn,
    OpenAccount,
    decide,
    evolve,
)
from ledger.domain.money import DEFAULT_CURRENCY
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec


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

ACCOUNT: Final = Aggregate[Command, Event, Account](
    type="Account",
    events=ACCOUNT_EVENTS,
    # Bump when Account changes shape: older stored states then no longer decode and are rebuilt from events.
    state=StateCodec(Account, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.account_id,
    creation=(OpenAccount,),
    # Deposits commute: in any order they make the same balance, so concurrent ones are retried until they land
    # (within the retry budget) rather than answered 409. Withdrawals do not (which of two succeeds depends on the
    # order), so they keep the count limit. Either is decided on the state it is appended after: a withdrawal's
    # funds, a deposit's balance limit.
    commuting=(DepositMoney,),
    not_found=AccountNotFoundError,
    already_exists=AccountAlreadyExistsError,
    # Accounts were stored under their bare id before ids were scoped by type (account ids hold no '#').
    bare_stream_keys=True,
)
