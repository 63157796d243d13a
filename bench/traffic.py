"""The input of figure 5: account traffic run as real commands through the account's CommandService on moto (the
records each mapping hands its function are read back by bench/pipeline.py).

The traffic (seeded, so every run sends the same): accounts opened, then deposits and withdrawals spread over about
two hours of event time across a UTC midnight (so reports cover two days), one busy account that crosses a snapshot
interval (the mapping's filter drops the snapshot), some large deposits (`large_transaction` alerts) and bursts of
transactions seconds apart on one account (`high_velocity` alerts). The service runs on a clock that hands each
command its planned time, so event times are those of the plan and the fraud rules see the plan's spacing.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from bench.histories import AccountService
from bench.pipeline import kinesis_data
from ledger.application.pipeline.fraud_detection import transaction_of
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import Command, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.reports import DailyTotals
from ledger.kernel.messages import decode_message, parse_message
from ledger.kernel.service import CommandContext

ACCOUNTS: Final = 40
BUSY_SHARE: Final = 0.15  # of the background transactions, on one account (more than a snapshot interval of them)
WITHDRAWAL_SHARE: Final = 0.35
LARGE_SHARE: Final = 0.06  # of the deposits: at or over the large-transaction threshold
LARGE_AMOUNT: Final = 1_000_000  # the topology's FRAUD_LARGE_AMOUNT
BURST_LENGTH: Final = 6  # transactions 4 s apart: the fifth completes a velocity window (5 within 60 s)
BURST_GAP: Final = timedelta(seconds=4)
MIN_EVENTS: Final = ACCOUNTS + BURST_LENGTH + 1  # the openings, one burst (one velocity alert), one more
MEAN_GAP_SECONDS: Final = 7.0  # between two background transactions (so an ordinary account sees one every ~5 min)
_CONTEXT: Final = CommandContext(correlation_id="bench-traffic", causation_id="bench-traffic")


@dataclass(frozen=True)
class Planned:
    at: datetime
    command: Command


@dataclass
class Traffic:
    """The commands, oldest first, and what they add up to (for checking what the consumers made of them)."""

    commands: list[Planned]
    accounts: list[str]
    bursts: int
    balances: dict[str, int] = field(default_factory=dict)
    days: dict[date, DailyTotals] = field(default_factory=dict)

    @property
    def large_deposits(self) -> int:
        return sum(1 for p in self.commands if isinstance(p.command, DepositMoney) and p.command.amount >= LARGE_AMOUNT)

    @property
    def kinds(self) -> Counter[str]:
        return Counter(type(p.command).__name__ for p in self.commands)


def plan(events: int, *, seed: int = 3) -> Traffic:
    """About `events` commands (each writes one event): ACCOUNTS openings, bursts, and background transactions."""
    rng = random.Random(seed)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    start = midnight - timedelta(minutes=40)
    accounts = [f"bench-{number:02d}" for number in range(ACCOUNTS)]
    busy, ordinary = accounts[0], accounts[1:]
    bursts = max(1, events // 30)
    background = events - ACCOUNTS - bursts * BURST_LENGTH
    if background < 1:
        raise ValueError(f"at least {ACCOUNTS + bursts * BURST_LENGTH + 1} events, not {events}")
    slots: list[tuple[datetime, str]] = []
    at = start + timedelta(seconds=2 * ACCOUNTS)
    for _ in range(background):
        at += timedelta(seconds=rng.expovariate(1 / MEAN_GAP_SECONDS))
        slots.append((at, busy if rng.random() < BUSY_SHARE else rng.choice(ordinary)))
    end = at
    for _ in range(bursts):
        first = start + (end - start) * rng.uniform(0.05, 0.95)
        account = rng.choice(ordinary)
        slots += [(first + BURST_GAP * step, account) for step in range(BURST_LENGTH)]
    traffic = Traffic([], accounts, bursts)
    for number, account in enumerate(accounts):
        opening = rng.randrange(10_000, 200_000)
        _add(
            traffic,
            Planned(start + timedelta(seconds=2 * number), OpenAccount(account, f"Owner {number}", "USD", opening)),
        )
    for at, account in sorted(slots):
        balance = traffic.balances[account]
        if rng.random() < WITHDRAWAL_SHARE and balance >= 1_000:
            command: Command = WithdrawMoney(account, rng.randrange(100, min(balance, 30_000) + 1))
        elif rng.random() < LARGE_SHARE:
            command = DepositMoney(account, rng.randrange(LARGE_AMOUNT, 3 * LARGE_AMOUNT))
        else:
            command = DepositMoney(account, rng.randrange(500, 50_000))
        _add(traffic, Planned(at, command))
    return traffic


def _add(traffic: Traffic, planned: Planned) -> None:
    traffic.commands.append(planned)
    command, day = planned.command, planned.at.date()
    if isinstance(command, OpenAccount):
        traffic.balances[command.account_id] = command.initial_balance
        totals = DailyTotals(accounts_opened=1)
    elif isinstance(command, DepositMoney):
        traffic.balances[command.account_id] += command.amount
        totals = DailyTotals(deposits_count=1, deposits_total=command.amount)
    elif isinstance(command, WithdrawMoney):
        traffic.balances[command.account_id] -= command.amount
        totals = DailyTotals(withdrawals_count=1, withdrawals_total=command.amount)
    else:  # pragma: no cover - the plan makes no other command
        raise TypeError(command)
    traffic.days[day] = traffic.days.get(day, DailyTotals()) + totals


@dataclass
class PlanClock:
    """The services' clock while a plan runs: it reads the planned time of the command being sent."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def execute(service: AccountService, traffic: Traffic) -> None:
    """Run every command, each at its planned time (the service's clock)."""
    clock = PlanClock(traffic.commands[0].at)
    service.clock = clock
    for planned in traffic.commands:
        clock.now = planned.at
        service.execute(planned.command, _CONTEXT)


def first_transactions(event: dict[str, Any]) -> dict[str, int]:
    """Each account with a transaction (deposit, withdrawal) in the batch of event messages, and the version of its
    first: the history before it is what the velocity rule needs beyond the batch."""
    first: dict[str, int] = {}
    for record in event["Records"]:
        recorded = decode_message(parse_message(kinesis_data(record)), AGGREGATES)
        transaction = transaction_of(recorded) if recorded is not None else None
        if transaction is not None:
            first.setdefault(transaction.account_id, transaction.version)
    return first
