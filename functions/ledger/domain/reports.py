"""Daily transaction reports by UTC date: per account and for the whole day. Sums commute, so each event can be
added on its own, in any order, as long as it is added exactly once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Final

from ledger.domain.accounts import AccountCreated, Event, MoneyDeposited, MoneyWithdrawn

ALL_ACCOUNTS: Final = "*"


@dataclass(frozen=True)
class DailyTotals:
    deposits_count: int = 0
    deposits_total: int = 0
    withdrawals_count: int = 0
    withdrawals_total: int = 0
    accounts_opened: int = 0

    @property
    def net(self) -> int:
        return self.deposits_total - self.withdrawals_total

    def __add__(self, other: DailyTotals) -> DailyTotals:
        return DailyTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class ReportKey:
    day: date
    account_id: str  # ALL_ACCOUNTS for the whole day's report


def contribution(event: Event) -> DailyTotals | None:
    """What one account event adds to its day's totals (None: nothing)."""
    if isinstance(event, MoneyDeposited):
        return DailyTotals(deposits_count=1, deposits_total=event.amount)
    if isinstance(event, MoneyWithdrawn):
        return DailyTotals(withdrawals_count=1, withdrawals_total=event.amount)
    if isinstance(event, AccountCreated):
        return DailyTotals(accounts_opened=1)
    return None


def report_keys(day: date, account_id: str) -> tuple[ReportKey, ReportKey]:
    """The two reports an account's event on `day` adds to: the account's and the whole day's."""
    return ReportKey(day, account_id), ReportKey(day, ALL_ACCOUNTS)
