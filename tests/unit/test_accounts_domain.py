"""The account aggregate's rules, given/when/then, with no storage at all."""

from __future__ import annotations

import pytest

from ledger.domain.accounts import (
    Account,
    AccountAlreadyExistsError,
    AccountClosed,
    AccountClosedError,
    AccountCreated,
    AccountNotFoundError,
    BalanceLimitExceededError,
    CloseAccount,
    DepositMoney,
    Event,
    InsufficientFundsError,
    MoneyDeposited,
    MoneyWithdrawn,
    NonZeroBalanceError,
    OpenAccount,
    WithdrawMoney,
    decide,
    evolve,
)
from ledger.domain.errors import InvalidCommandError
from ledger.domain.money import MAX_AMOUNT, MAX_BALANCE

T0 = "2026-11-26T08:00:00.000Z"


def given(*events: Event) -> Account | None:
    state = None
    for version, event in enumerate(events, start=1):
        state = evolve(state, event, version, T0)
    return state


def created(balance: int = 10_000) -> AccountCreated:
    return AccountCreated("acc-1", "Ann", "USD", balance)


def test_opening_an_account_records_its_owner_currency_and_initial_balance() -> None:
    assert decide(None, OpenAccount("acc-1", "  Ann  ", "EUR", 500)) == [AccountCreated("acc-1", "Ann", "EUR", 500)]


def test_the_seed_scenario_replays_to_a_balance_of_130_dollars() -> None:
    state = given(created(10_000), MoneyDeposited("acc-1", 5_000), MoneyWithdrawn("acc-1", 2_000))
    assert state is not None
    assert (state.balance, state.version, state.status) == (13_000, 3, "open")


def test_an_account_cannot_be_opened_twice() -> None:
    with pytest.raises(AccountAlreadyExistsError):
        decide(given(created()), OpenAccount("acc-1", "Ann"))


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (OpenAccount("acc-1", "   "), "owner"),
        (OpenAccount("acc-1", "Ann", currency="XYZ"), "currency"),
        (OpenAccount("acc-1", "Ann", initial_balance=-1), "initial_balance"),
        (OpenAccount("acc-1", "Ann", initial_balance=MAX_AMOUNT + 1), "initial_balance"),
    ],
)
def test_opening_refuses_invalid_values_naming_the_field(command: OpenAccount, field: str) -> None:
    with pytest.raises(InvalidCommandError) as refused:
        decide(None, command)
    assert refused.value.field == field


def test_a_deposit_adds_to_the_balance() -> None:
    assert decide(given(created()), DepositMoney("acc-1", 5_000, "salary")) == [
        MoneyDeposited("acc-1", 5_000, "salary")
    ]


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1])
def test_deposits_and_withdrawals_need_a_positive_amount_within_the_limit(amount: int) -> None:
    for command in (DepositMoney("acc-1", amount), WithdrawMoney("acc-1", amount)):
        with pytest.raises(InvalidCommandError):
            decide(given(created()), command)


def test_a_withdrawal_above_the_balance_is_refused_with_no_event() -> None:
    with pytest.raises(InsufficientFundsError, match=r"100\.00 USD"):
        decide(given(created(10_000)), WithdrawMoney("acc-1", 10_001))


def test_the_whole_balance_can_be_withdrawn() -> None:
    assert decide(given(created(10_000)), WithdrawMoney("acc-1", 10_000)) == [MoneyWithdrawn("acc-1", 10_000)]


def test_a_deposit_that_would_pass_the_balance_limit_is_refused() -> None:
    state = given(created(MAX_AMOUNT), *[MoneyDeposited("acc-1", MAX_AMOUNT)] * (MAX_BALANCE // MAX_AMOUNT - 1))
    with pytest.raises(BalanceLimitExceededError):
        decide(state, DepositMoney("acc-1", MAX_AMOUNT))


def test_commands_on_an_unknown_account_are_refused() -> None:
    for command in (DepositMoney("x", 1), WithdrawMoney("x", 1), CloseAccount("x")):
        with pytest.raises(AccountNotFoundError):
            decide(None, command)


def test_only_an_account_at_zero_can_be_closed() -> None:
    with pytest.raises(NonZeroBalanceError):
        decide(given(created(1)), CloseAccount("acc-1"))
    assert decide(given(created(0)), CloseAccount("acc-1")) == [AccountClosed("acc-1")]


def test_a_closed_account_refuses_deposits_withdrawals_and_a_second_close() -> None:
    closed = given(created(0), AccountClosed("acc-1"))
    assert closed is not None
    assert closed.status == "closed"
    for command in (DepositMoney("acc-1", 1), WithdrawMoney("acc-1", 1), CloseAccount("acc-1")):
        with pytest.raises(AccountClosedError):
            decide(closed, command)


def test_evolving_tracks_version_and_timestamps() -> None:
    state = evolve(None, created(), 1, "2026-01-01T00:00:00.000Z")
    state = evolve(state, MoneyDeposited("acc-1", 1), 2, "2026-01-02T00:00:00.000Z")
    assert (state.version, state.opened_at, state.updated_at) == (
        2,
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
    )


def test_an_event_before_account_created_is_a_corrupt_stream() -> None:
    with pytest.raises(ValueError, match="precedes AccountCreated"):
        evolve(None, MoneyDeposited("acc-1", 1), 1, T0)
