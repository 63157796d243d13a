"""Figures 1 and 2: AWS calls per command (on a cold and on a warm process) and per state read at 10 / 1,000 /
10,000 events, and the state read time at 10,000 events over 10 events. All accounts share one table, so moto's table
walk is the same for each; a bare Query timed alongside shows what moto alone costs at each length."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws

from bench import profiling
from bench.aws import CallRecorder
from bench.footprints import Footprint, Harness, command_context
from bench.histories import DEPOSIT, AccountService, check_seeded, seed_account
from bench.report import Note, Row, judged
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import DepositMoney

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HISTORIES: Final = (10, 1_000, 10_000)
SHORT, LONG = HISTORIES[0], HISTORIES[-1]
READ_RATIO_TARGET: Final = 1.2


@dataclass
class Bench:
    harness: Harness
    service: AccountService
    accounts: dict[int, str] = field(default_factory=dict)

    @property
    def setup(self) -> DynamoDBClient:
        return self.harness.setup

    @property
    def recorder(self) -> CallRecorder:
        return self.harness.recorder

    @property
    def table(self) -> str:
        return self.harness.table

    def footprint(self, operation: Callable[..., object], *args: object) -> Footprint:
        return self.harness.footprint(operation, *args)

    def command(self, account_id: str, *, cold: bool, idempotent: bool = False) -> Footprint:
        """One deposit; cold: as a process that has not seen the account (its state cache has no entry for it)."""
        context = command_context(idempotent=idempotent)
        return self.harness.command(ACCOUNT, _deposit(account_id), cold=cold, context=context)


@dataclass(frozen=True)
class Footprints:
    state_reads: dict[int, Footprint]
    cold: dict[int, Footprint]
    warm: dict[int, Footprint]
    idempotent: Footprint  # cold, at the longest history


@dataclass(frozen=True)
class ReadTimes:
    total: dict[int, list[float]]
    in_client: dict[int, list[float]]
    query_items: dict[int, int]
    bare_query: dict[int, list[float]]  # the load's Query sent by hand: moto and botocore, no code of ours

    def median(self, history: int) -> float:
        return statistics.median(self.total[history])

    def median_own(self, history: int) -> float:
        """Time outside the client call: our code (load, decode, fold)."""
        return statistics.median(t - c for t, c in zip(self.total[history], self.in_client[history], strict=True))

    @property
    def ratio(self) -> float:
        return self.median(LONG) / self.median(SHORT)

    @property
    def bare_ratio(self) -> float:
        return statistics.median(self.bare_query[LONG]) / statistics.median(self.bare_query[SHORT])


def run(*, snapshot_interval: int | None, reads: int) -> tuple[list[Row], list[Note], dict[str, Any]]:
    with mock_aws():
        bench = _deploy(snapshot_interval)
        interval = bench.service.settings.snapshot_interval
        cache_size = bench.service.settings.state_cache_size
        seeding = {
            history: seed_account(bench.setup, bench.table, account, history, snapshot_interval=interval)
            for history, account in bench.accounts.items()
        }
        seeded = sum(s.items for s in seeding.values())
        for history, account in bench.accounts.items():
            check_seeded(bench.service, account, history)
        times = _time_state_reads(bench, reads)  # first, while every history has its seeded length
        sort_share = {h: _moto_sort_share(bench, bench.accounts[h]) for h in (SHORT, LONG)}
        accounts = bench.accounts
        state_reads = {h: bench.footprint(bench.service.reader.get, a) for h, a in accounts.items()}
        cold = {h: bench.command(a, cold=True) for h, a in accounts.items()}
        warm = {h: bench.command(a, cold=False) for h, a in accounts.items()}  # right after the cold one
        idempotent = bench.command(accounts[LONG], cold=True, idempotent=True)
    footprints = Footprints(state_reads, cold, warm, idempotent)

    rows = _call_rows(footprints, cache_size)
    rows.append(
        Row(
            f"2. state read time, {LONG:,} / {SHORT} events",
            f"{times.ratio:.2f} (median {_ms(times.median(LONG))} / {_ms(times.median(SHORT))}, {reads} reads each)",
            f"<= {READ_RATIO_TARGET}",
            judged(times.ratio <= READ_RATIO_TARGET),
            figure=2,
            number=round(times.ratio, 3),
        )
    )
    rows.append(
        Row(
            f"2. reference: the load's Query alone (Limit 1, sent by hand), {LONG:,} / {SHORT} events",
            f"{times.bare_ratio:.2f} (median {_ms(statistics.median(times.bare_query[LONG]))} / "
            f"{_ms(statistics.median(times.bare_query[SHORT]))})",
            "info (moto alone: walks the table, sorts the account's items)",
            "info",
            figure=2,
            number=round(times.bare_ratio, 3),
        )
    )
    lengths = ", ".join(f"{h:,}" for h in HISTORIES)
    made = sum(s.service_seconds for s in seeding.values())
    written = sum(s.write_seconds for s in seeding.values())
    notes = [
        (
            1,
            f"1-2: snapshot interval {interval}, state cache {cache_size} accounts; one table of {seeded:,} items "
            f"(the {lengths}-event accounts and their snapshots, made by CommandService(ACCOUNT) on the in-memory "
            f"store in {made:.1f} s and put into moto in {written:.1f} s). Cold process = the service's state cache "
            "has no entry for the account (what a fresh Lambda sees); warm = the next command in the same process. "
            "Items read = the Query's ScannedCount; used = items the load drew from the store before it found a stored "
            "state (the newest event carries one).",
        )
    ]
    if times.ratio > READ_RATIO_TARGET:
        notes.append((2, _read_time_note(times, seeded, {h: s.items for h, s in seeding.items()}, sort_share)))
    details = {
        "snapshot_interval": interval,
        "state_cache_size": cache_size,
        "table_items": seeded,
        "seed_seconds": {"service": made, "moto": written},
        "state_reads": {h: f.details() for h, f in state_reads.items()},
        "commands_cold_process": {h: f.details() for h, f in cold.items()},
        "commands_warm_process": {h: f.details() for h, f in warm.items()},
        "idempotent_command_cold_process": idempotent.details(),
        "read_seconds": {h: times.total[h] for h in (SHORT, LONG)},
        "read_seconds_in_client": {h: times.in_client[h] for h in (SHORT, LONG)},
        "bare_query_seconds": {h: times.bare_query[h] for h in (SHORT, LONG)},
        "bare_query_share_in_moto_sort": sort_share,
    }
    return rows, notes, details


def _deploy(snapshot_interval: int | None) -> Bench:
    """The account's service as the command function's composition root builds it (its settings from the
    deployment's environment), on a recorded client, its event store seen through a CountingStore."""
    harness = Harness.deploy(snapshot_interval)
    bench = Bench(harness, harness.service(ACCOUNT))
    bench.accounts = {history: f"bench-{history}" for history in HISTORIES}
    return bench


def _deposit(account_id: str) -> DepositMoney:
    return DepositMoney(account_id, DEPOSIT)


def _time_state_reads(bench: Bench, rounds: int) -> ReadTimes:
    total: dict[int, list[float]] = {SHORT: [], LONG: []}
    in_client: dict[int, list[float]] = {SHORT: [], LONG: []}
    bare: dict[int, list[float]] = {SHORT: [], LONG: []}
    items: dict[int, int] = {}
    for i in range(rounds):
        for history in (SHORT, LONG) if i % 2 == 0 else (LONG, SHORT):  # alternate: drift hits both alike
            with bench.recorder.recording() as calls:
                start = time.perf_counter()
                bench.service.reader.get(bench.accounts[history])
                total[history].append(time.perf_counter() - start)
            in_client[history].append(calls.seconds)
            items[history] = calls.items_read
            bare[history].append(_bare_query_seconds(bench, bench.accounts[history]))
    return ReadTimes(total, in_client, items, bare)


def _bare_query_seconds(bench: Bench, account_id: str) -> float:
    start = time.perf_counter()
    _bare_query(bench, account_id)
    return time.perf_counter() - start


def _bare_query(bench: Bench, account_id: str) -> None:
    """The Query a load sends first (newest item, strongly consistent, Limit 1), on the unrecorded client."""
    bench.setup.query(
        TableName=bench.table,
        KeyConditionExpression="aggregate_id = :id",
        ExpressionAttributeValues={":id": {"S": account_id}},
        ScanIndexForward=False,
        ConsistentRead=True,
        Limit=1,
    )


def _moto_sort_share(bench: Bench, account_id: str, rounds: int = 3) -> float:
    """Under cProfile, the share of a bare Query's time in moto's sort of the account's items by sort key (a
    `list.sort`; the sort of the whole table before it is `sorted`, the same for every account)."""

    def work() -> None:
        for _ in range(rounds):
            _bare_query(bench, account_id)

    return profiling.cumulative_share(profiling.everything(work), "<method 'sort' of 'list' objects>")


def _call_rows(footprints: Footprints, cache_size: int) -> list[Row]:
    def judged_row(metric: str, footprint: Footprint, *, reads: int, writes: int) -> Row:
        target = f"<= {reads} read" + (f" + {writes} write" if writes else "")
        passed = footprint.within(reads=reads, writes=writes)
        return Row(metric, footprint.describe(), target, judged(passed), figure=1, number=len(footprint.calls.calls))

    command = "1. AWS calls per command (deposit)"
    rows = [
        judged_row(f"{command}, cold process, {history:,} events", footprint, reads=1, writes=1)
        for history, footprint in footprints.cold.items()
    ]
    rows += [
        Row(
            f"{command}, warm process (state cache {cache_size}), {history:,} events",
            footprint.describe(),
            "info (expected 0 reads + 1 write: decided on the cached state)",
            "info",
            figure=1,
            number=len(footprint.calls.calls),
        )
        for history, footprint in footprints.warm.items()
    ]
    rows.append(
        judged_row(
            f"1. AWS calls per command with Idempotency-Key, cold process, {LONG:,} events",
            footprints.idempotent,
            reads=1,
            writes=1,
        )
    )
    rows += [
        judged_row(f"1. AWS calls per state read, {history:,} events", footprint, reads=1, writes=0)
        for history, footprint in footprints.state_reads.items()
    ]
    kinds = {"cold command": footprints.cold, "warm command": footprints.warm, "state read": footprints.state_reads}
    flat = all(len({f.shape for f in by_length.values()}) == 1 for by_length in kinds.values())
    lengths = " / ".join(f"{h:,}" for h in HISTORIES)
    rows.append(
        Row(
            f"1. calls flat in history length ({lengths})",
            "; ".join(
                f"{kind} " + " / ".join(str(len(f.calls.calls)) for f in by_length.values())
                for kind, by_length in kinds.items()
            ),
            "same calls and items read at every length",
            judged(flat),
            figure=1,
        )
    )
    return rows


def _read_time_note(
    times: ReadTimes, table_items: int, account_items: dict[int, int], sort_share: dict[int, float]
) -> str:
    return (
        f"2 misses: the Query behind a state read returned {times.query_items[LONG]} item(s) at {LONG:,} events and "
        f"{times.query_items[SHORT]} at {SHORT}. Median time in the client call "
        f"{_ms(statistics.median(times.in_client[LONG]))} vs {_ms(statistics.median(times.in_client[SHORT]))}; "
        f"the same Query sent by hand {_ms(statistics.median(times.bare_query[LONG]))} vs "
        f"{_ms(statistics.median(times.bare_query[SHORT]))} (moto walks the table's {table_items:,} items for "
        f"either, then sorts the account's items: {account_items[LONG]:,} vs {account_items[SHORT]}; under "
        f"cProfile that sort is {sort_share[LONG]:.0%} vs {sort_share[SHORT]:.0%} of the Query's time); our code "
        f"outside the call {_ms(times.median_own(LONG))} vs {_ms(times.median_own(SHORT))}."
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
