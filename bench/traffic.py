"""The input of figure 5: account traffic run as real commands through the account's CommandService on moto, and the
records each consumer's event source mapping hands its function, in Lambda's event shapes and batch sizes.

The traffic (seeded, so every run sends the same): accounts opened, then deposits and withdrawals spread over about
two hours of event time across a UTC midnight (so reports cover two days), one busy account that crosses a snapshot
interval (the mapping's filter drops the snapshot), some large deposits (`large_transaction` alerts) and bursts of
transactions seconds apart on one account (`high_velocity` alerts). The service runs on a clock that hands each
command its planned time, so event times are those of the plan and the fraud rules see the plan's spacing.

The records are read back as GetRecords returns them - the DynamoDB stream of the event table from moto's model (as
the local runtime reads it; moto's Streams API serialiser is slow), the Kinesis streams through GetShardIterator /
GetRecords - and shaped by `local.stream_events`, with which the local runtime's emulation of the mappings builds
the events it invokes the functions with.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from bench.aws import stream_records
from bench.histories import AccountService
from infra.model import EventSource, Function, StreamAccess
from infra.topology import TOPOLOGY
from ledger.application.pipeline.fraud_detection import transaction_of
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import Command, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.reports import DailyTotals
from ledger.kernel.messages import decode_message, parse_message
from ledger.kernel.service import CommandContext
from local.environment import role_arn
from local.filters import accepts, kinesis_view
from local.stream_events import dynamodb_record, kinesis_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient

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


def execute(service: AccountService, traffic: Traffic) -> None:
    """Run every command, each at its planned time (the service's clock)."""
    now = traffic.commands[0].at

    def clock() -> datetime:
        return now

    service.clock = clock
    for planned in traffic.commands:
        now = planned.at
        service.execute(planned.command, _CONTEXT)


# --- the records a mapping hands its function ---------------------------------------------------------------------


def dynamodb_stream(dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, oldest first, as Lambda's DynamoDB event `Records` elements."""
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    region = dynamodb.meta.region_name
    return [dynamodb_record(raw, stream_arn=arn, region=region).event for raw in stream_records(dynamodb, table)]


def kinesis_stream(kinesis: KinesisClient, stream: str, region: str, invoke_identity_arn: str) -> list[dict[str, Any]]:
    """Every record of the Kinesis stream, shard by shard, each oldest first, as Lambda's Kinesis event `Records`
    elements (a consumer's batches come from one shard)."""
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            if not response["Records"]:
                break
            records += [
                kinesis_record(
                    raw,
                    shard_id=shard["ShardId"],
                    stream_arn=arn,
                    region=region,
                    invoke_identity_arn=invoke_identity_arn,
                ).event
                for raw in response["Records"]
            ]
            iterator = response.get("NextShardIterator", "")
    return records


def kinesis_data(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["kinesis"]["data"])


def batches(source: EventSource, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invocations of the mapping: the records its filters accept, in order, `batch_size` at a time (a batch
    never spans two shards)."""
    accepted = [
        record
        for record in records
        if accepts(source.filters, kinesis_view(record) if source.kind == "kinesis" else record)
    ]
    events: list[dict[str, Any]] = []
    for _, shard in _by_shard(accepted):
        events += [
            {"Records": shard[start : start + source.batch_size]} for start in range(0, len(shard), source.batch_size)
        ]
    return events


def _by_shard(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    shards: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        shard = record["eventID"].partition(":")[0] if record["eventSource"] == "aws:kinesis" else ""
        shards.setdefault(shard, []).append(record)
    return list(shards.items())


# --- the mappings, upstream first, and what a batch is about ------------------------------------------------------


def upstream_first() -> list[tuple[Function, EventSource]]:
    """Every event source mapping of the topology, each after the mappings of the functions that put records on its
    Kinesis stream (as their access says), so that it reads all they wrote."""
    pending = [(f, source) for f in TOPOLOGY.functions for source in f.event_sources]
    writers = {
        stream.id: {
            f.id
            for f in TOPOLOGY.functions
            for a in f.access
            if isinstance(a, StreamAccess) and a.stream == stream.id and any("PutRecord" in x for x in a.actions)
        }
        for stream in TOPOLOGY.streams
    }
    done: set[str] = set()
    ordered: list[tuple[Function, EventSource]] = []
    while pending:
        ready = [(f, s) for f, s in pending if s.kind == "dynamodb" or writers.get(s.source, set()) <= done | {f.id}]
        if not ready:
            raise RuntimeError(f"the pipeline's mappings form a cycle: {[f.id for f, _ in pending]}")
        for f, source in ready:
            ordered.append((f, source))
            pending.remove((f, source))
        done |= {f.id for f, _ in ready}
    return ordered


def records_for(
    function: Function, source: EventSource, dynamodb: DynamoDBClient, kinesis: KinesisClient
) -> list[dict[str, Any]]:
    """Every record of the mapping's source now, as Lambda hands them to `function` (run it once the functions
    that write to a Kinesis source have run: `upstream_first`)."""
    if source.kind == "dynamodb":
        return dynamodb_stream(dynamodb, TOPOLOGY.table(source.source).local_name)
    stream = TOPOLOGY.stream(source.source)
    return kinesis_stream(kinesis, stream.name, dynamodb.meta.region_name, role_arn(function))


def accounts_of(event: dict[str, Any]) -> set[str]:
    """The accounts the batch's records are about."""
    accounts: set[str] = set()
    for record in event["Records"]:
        if "dynamodb" in record:
            accounts.add(record["dynamodb"]["NewImage"]["aggregate_id"]["S"])
        else:
            body = json.loads(kinesis_data(record))
            accounts.add(str(body.get("aggregate_id") or body.get("account_id")))
    return accounts


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
