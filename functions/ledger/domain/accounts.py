"""The bank account aggregate: commands, events, state, and the rules that decide between them.

`decide(state, command)` returns the events a command produces (or raises a DomainError, producing none);
`evolve(state, event, version, occurred_at)` folds one recorded event into the state. Replaying every event of an
account through `evolve` gives its state at any version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from ledger.domain.errors import Category, DomainError, InvalidCommandError
from ledger.domain.money import DEFAULT_CURRENCY, MAX_AMOUNT, MAX_BALANCE, format_minor_units, is_currency

OPEN: Final = "open"
CLOSED: Final = "closed"
AccountStatus = Literal["open", "closed"]


# --- Commands (imperative) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAccount:
    account_id: str
    owner: str
    currency: str = DEFAULT_CURRENCY
    initial_balance: int = 0


@dataclass(frozen=True)
class DepositMoney:
    account_id: str
    amount: int
    description: str | None = None


@dataclass(frozen=True)
class WithdrawMoney:
    account_id: str
    amount: int
    description: str | None = None


@dataclass(frozen=True)
class CloseAccount:
    account_id: str


Command = OpenAccount | DepositMoney | WithdrawMoney | CloseAccount


# --- Events (past tense, immutable) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountCreated:
    account_id: str
    owner: str
    currency: str
    initial_balance: int


@dataclass(frozen=True)
class MoneyDeposited:
    account_id: str
    amount: int
    description: str | None = None


@dataclass(frozen=True)
class MoneyWithdrawn:
    account_id: str
    amount: int
    description: str | None = None


@dataclass(frozen=True)
class AccountClosed:
    account_id: str


Event = AccountCreated | MoneyDeposited | MoneyWithdrawn | AccountClosed


def event_type_name(event: Event) -> str:
    return type(event).__name__


# --- Refusals ---------------------------------------------------------------------------------------------------


class AccountNotFoundError(DomainError):
    code = "account_not_found"
    category = Category.NOT_FOUND


class AccountAlreadyExistsError(DomainError):
    code = "account_exists"
    category = Category.CONFLICT


class AccountClosedError(DomainError):
    code = "account_closed"
    category = Category.CONFLICT


class InsufficientFundsError(DomainError):
    code = "insufficient_funds"
    category = Category.CONFLICT


class BalanceLimitExceededError(DomainError):
    code = "balance_limit_exceeded"
    category = Category.CONFLICT


class NonZeroBalanceError(DomainError):
    code = "balance_not_zero"
    category = Category.CONFLICT


# --- State -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    account_id: str
    owner: str
    currency: str
    balance: int
    status: AccountStatus
    version: int
    opened_at: str
    updated_at: str

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


# --- Decisions -------------------------------------------------------------------------------------------------


def decide(state: Account | None, command: Command) -> list[Event]:
    """The events `command` produces against `state` (None: the account has no history yet)."""
    if isinstance(command, OpenAccount):
        return [_open(state, command)]
    account = _require_open(state, command.account_id)
    if isinstance(command, DepositMoney):
        _check_amount(command.amount)
        if account.balance + command.amount > MAX_BALANCE:
            raise BalanceLimitExceededError(
                f"Depositing {format_minor_units(command.amount, account.currency)} would take the balance "
                f"over the limit of {MAX_BALANCE} minor units."
            )
        return [MoneyDeposited(account.account_id, command.amount, command.description)]
    if isinstance(command, WithdrawMoney):
        _check_amount(command.amount)
        if command.amount > account.balance:
            raise InsufficientFundsError(
                f"Cannot withdraw {format_minor_units(command.amount, account.currency)}: the balance is "
                f"{format_minor_units(account.balance, account.currency)}."
            )
        return [MoneyWithdrawn(account.account_id, command.amount, command.description)]
    if account.balance != 0:
        raise NonZeroBalanceError(
            f"Only an account with a zero balance can be closed; the balance is "
            f"{format_minor_units(account.balance, account.currency)}."
        )
    return [AccountClosed(account.account_id)]


def _open(state: Account | None, command: OpenAccount) -> AccountCreated:
    if state is not None:
        raise AccountAlreadyExistsError(f"Account {command.account_id!r} already exists.")
    if not command.owner.strip():
        raise InvalidCommandError("The owner must not be blank.", field="owner")
    if not is_currency(command.currency):
        raise InvalidCommandError(f"{command.currency!r} is not an ISO-4217 currency code.", field="currency")
    if not 0 <= command.initial_balance <= MAX_AMOUNT:
        raise InvalidCommandError(
            f"The initial balance must be between 0 and {MAX_AMOUNT} minor units.", field="initial_balance"
        )
    return AccountCreated(command.account_id, command.owner.strip(), command.currency, command.initial_balance)


def _require_open(state: Account | None, account_id: str) -> Account:
    if state is None:
        raise AccountNotFoundError(f"Account {account_id!r} does not exist.")
    if not state.is_open:
        raise AccountClosedError(f"Account {account_id!r} is closed.")
    return state


def _check_amount(amount: int) -> None:
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidCommandError(f"The amount must be between 1 and {MAX_AMOUNT} minor units.", field="amount")


# --- Evolution -------------------------------------------------------------------------------------------------


def evolve(state: Account | None, event: Event, version: int, occurred_at: str) -> Account:
    """Fold one recorded event (at `version`, recorded at `occurred_at`) into the state."""
    if isinstance(event, AccountCreated):
        return Account(
            account_id=event.account_id,
            owner=event.owner,
            currency=event.currency,
            balance=event.initial_balance,
            status=OPEN,
            version=version,
            opened_at=occurred_at,
            updated_at=occurred_at,
        )
    if state is None:
        raise ValueError(f"{event_type_name(event)} at version {version} precedes AccountCreated")
    if isinstance(event, MoneyDeposited):
        return replace(state, balance=state.balance + event.amount, version=version, updated_at=occurred_at)
    if isinstance(event, MoneyWithdrawn):
        return replace(state, balance=state.balance - event.amount, version=version, updated_at=occurred_at)
    return replace(state, status=CLOSED, version=version, updated_at=occurred_at)
