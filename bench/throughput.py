"""Figure 4: commands per second in-process on moto, over raw conditional PutItems per second on the same moto.

Every write is an item of the shape a deposit writes: the raw PutItems put deposit events that the service itself
made (on the in-memory store, state included) at fresh seqs, so the ratio is the cost of our code over moto's floor
for the same items. Four subjects, each on its own table seeded with one snapshot interval of history, run
interleaved operation by operation so that a change of load on the machine hits them alike:

- commands, state cache on (the deployed default), warm process: a command decides on the state it cached and only
  writes (0 reads + 1 write) - the headline, which the target applies to;
- commands, state cache off (STATE_CACHE_SIZE=0): every command loads (a 1-item Query) and writes, as on a cold
  process (informational);
- raw: conditional PutItems of those items;
- reference: a 1-item Query + a conditional PutItem of those items, by hand: the best a command that reads once and
  writes once can do here (informational).

The commands are deposits, whole snapshot intervals of them, so the ones that also write a snapshot
(TransactWriteItems) count in proportion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws

from bench import profiling
from bench.aws import CallRecorder, Calls, Deployment, deploy_tables, dynamodb_client
from bench.histories import DEPOSIT, AccountService, account_history, item, seed_account, write_history
from bench.report import Note, Row, judged
from bench.timing import collector_paused, timed
from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import DepositMoney
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TARGET: Final = 0.5
MIN_COMMANDS: Final = 300
COLLECT_EVERY: Final = 30  # rounds (one operation of each subject) between two garbage collections
_CONDITION: Final = "attribute_not_exists(aggregate_id)"
_CONTEXT: Final = CommandContext(correlation_id="bench", causation_id="bench")


@dataclass
class Subject:
    """One of the interleaved rates: `work(i)` does its operation number i (of `count`)."""

    name: str
    count: int
    work: Callable[[int], None]
    seconds: float = 0.0
    calls: Calls = field(default_factory=Calls)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @property
    def ms_each(self) -> float:
        return self.seconds / self.count * 1000

    def split(self) -> str:
        """Per operation: the time in each client call (botocore + moto) and outside them (our code, if any)."""
        calls = ", ".join(
            f"{op} {self.calls.seconds_in(op) / self.count * 1000:.2f} ms" for op in sorted(self.calls.operations)
        )
        own = (self.seconds - self.calls.seconds) / self.count * 1000
        return f"{self.ms_each:.2f} ms = {calls} in client calls + {own:.2f} ms outside them"


@dataclass(frozen=True)
class Setup:
    warm: AccountService  # the deployed settings: state cache on
    cold: AccountService  # state cache off
    raw_items: list[dict[str, Any]]  # `commands` event items for the raw table: the next seqs of its account
    reference_items: list[dict[str, Any]]  # the same for the reference table
    raw_table: str
    reference_table: str
    interval: int
    commands: int  # per subject: whole snapshot intervals


def run(*, snapshot_interval: int | None, profile_commands: int) -> tuple[list[Row], list[Note], dict[str, Any]]:
    with mock_aws():
        client = dynamodb_client()
        recorder = CallRecorder(client)
        setup = _setup(client, snapshot_interval)
        commands = setup.commands
        subjects = [
            Subject("warm", commands, lambda _: _deposits(setup.warm, "warm", 1)),
            Subject("cold", commands, lambda _: _deposits(setup.cold, "cold", 1)),
            Subject("raw", commands, lambda i: _put(client, setup.raw_table, setup.raw_items[i])),
            Subject(
                "reference", commands, lambda i: _query_and_put(client, setup.reference_table, setup.reference_items[i])
            ),
        ]
        for first in range(0, commands, COLLECT_EVERY):
            with collector_paused():
                for i in range(first, min(first + COLLECT_EVERY, commands)):
                    shift = i % len(subjects)  # each subject runs first, second... equally often
                    for subject in subjects[shift:] + subjects[:shift]:
                        with recorder.recording() as calls:
                            subject.seconds += timed(partial(subject.work, i))
                        subject.calls.calls += calls.calls
        hot = _where_time_goes(client, setup.warm, profile_commands) if profile_commands > 0 else None
    warm, cold, raw, reference = subjects
    ratio, cold_ratio, reference_ratio = (s.per_second / raw.per_second for s in (warm, cold, reference))
    rows = [
        Row(
            "4. commands/s over raw conditional PutItems/s (moto); state cache on (deployed default), warm process",
            f"{ratio:.3f} ({warm.per_second:.0f}/s vs {raw.per_second:.0f}/s; {commands} deposits: "
            f"{warm.calls.summary()})",
            f">= {TARGET}",
            judged(ratio >= TARGET),
            figure=4,
            number=round(ratio, 4),
        ),
        Row(
            "4. the same with the state cache off (STATE_CACHE_SIZE=0): a load per command, as on a cold process",
            f"{cold_ratio:.3f} ({cold.per_second:.0f}/s; {commands} deposits: {cold.calls.summary()})",
            "info (the target applies to the deployed default)",
            "info",
            figure=4,
            number=round(cold_ratio, 4),
        ),
        Row(
            "4. reference: (1-item Query + PutItem)/s over PutItems/s, same items",
            f"{reference_ratio:.3f} ({reference.per_second:.0f}/s)",
            "info (best any 1 read + 1 write command can do here)",
            "info",
            figure=4,
            number=round(reference_ratio, 4),
        ),
    ]
    sample = setup.raw_items[0]
    notes: list[Note] = [
        (
            4,
            f"4: every write is a deposit's event item as the service makes it ({len(sample)} attributes, "
            f"{len(json.dumps(sample)):,} bytes as request JSON, state included): the raw PutItems and the "
            f"reference put such items, made by CommandService(ACCOUNT) on the in-memory store, at fresh seqs. Each "
            f"subject has its own table seeded with {setup.interval} events; {commands} commands per service (whole "
            f"snapshot intervals, after one untimed warm-up command each), as many raw puts and reference "
            f"pairs, interleaved one of each at a time; the garbage collector paused while timing (as timeit does) "
            f"and run every {COLLECT_EVERY} rounds.",
        ),
        (4, _where_note(warm, cold, raw)),
    ]
    if ratio < TARGET:
        text = "4 misses (the note above splits a command)."
        if hot is not None:
            text += (
                f" cProfile over {profile_commands} more warm commands: all the time, top self time: {hot[0]}. "
                f"Our code alone (client calls paused), top cumulative: {hot[1]}."
            )
        notes.append((4, text))
    details = {
        "commands": commands,
        "item_json_bytes": len(json.dumps(sample)),
        **{
            subject.name: {
                "per_second": subject.per_second,
                "seconds": subject.seconds,
                "client_seconds": {op: subject.calls.seconds_in(op) for op in sorted(subject.calls.operations)},
                "operations": dict(subject.calls.operations),
                "split": subject.split(),
            }
            for subject in subjects
        },
    }
    return rows, notes, details


def _where_note(warm: Subject, cold: Subject, raw: Subject) -> str:
    transactions = warm.calls.operations["TransactWriteItems"]
    each = warm.calls.seconds_in("TransactWriteItems") / max(transactions, 1) * 1000
    return (
        f"4, where the time goes: per warm command {warm.split()}; per raw PutItem {raw.split()}; per cache-off "
        f"command {cold.split()}. The {transactions} TransactWriteItems (the commands that also write a snapshot) "
        f"took {each:.0f} ms each: moto deep-copies every table a transaction writes (all its items and stream "
        "records) before it applies it, so on moto a transaction's cost grows with the table."
    )


def _setup(client: DynamoDBClient, snapshot_interval: int | None) -> Setup:
    """Four tables as the topology makes them, each seeded with one snapshot interval of history."""
    warm_deployment = deploy_tables(client, prefix="warm-", snapshot_interval=snapshot_interval)
    cold_deployment = deploy_tables(client, prefix="cold-", snapshot_interval=snapshot_interval).with_settings(
        **{bootstrap.STATE_CACHE_SIZE.variable: "0"}
    )
    raw_table = deploy_tables(client, prefix="raw-").event_table
    reference_table = deploy_tables(client, prefix="reference-").event_table
    warm, cold = (_service(deployment, client) for deployment in (warm_deployment, cold_deployment))
    interval = warm.settings.snapshot_interval
    commands = interval * -(-MIN_COMMANDS // interval)
    for deployment, account in ((warm_deployment, "warm"), (cold_deployment, "cold")):
        seed_account(client, deployment.event_table, account, interval, snapshot_interval=interval)
    raw_items = _seed_and_continue(client, raw_table, "raw", interval, commands)
    reference_items = _seed_and_continue(client, reference_table, "reference", interval, commands)
    for service, account in ((warm, "warm"), (cold, "cold")):
        _deposits(service, account, 1)  # warm-up: the warm service caches the state; first-use caches of both
    return Setup(warm, cold, raw_items, reference_items, raw_table, reference_table, interval, commands)


def _service(deployment: Deployment, client: DynamoDBClient) -> AccountService:
    """The account's command service as the command function's composition root builds it in `deployment`."""
    return deployment.root(client).get(bootstrap.command_service(ACCOUNT))


def _seed_and_continue(
    client: DynamoDBClient, table: str, account: str, interval: int, count: int
) -> list[dict[str, Any]]:
    """Seed `account` with `interval` events; returns the items of its next `count` deposit events."""
    records = account_history(account, interval + count, snapshot_interval=interval)
    write_history(client, table, [r for r in records if r.version <= interval])
    return [item(r) for r in records if r.version > interval and isinstance(r, EventRecord)]


def _deposits(service: AccountService, account: str, count: int) -> None:
    deposit = DepositMoney(account, DEPOSIT)
    for _ in range(count):
        service.execute(deposit, _CONTEXT)


def _put(client: DynamoDBClient, table: str, event: dict[str, Any]) -> None:
    client.put_item(TableName=table, Item=event, ConditionExpression=_CONDITION)


def _query_and_put(client: DynamoDBClient, table: str, event: dict[str, Any]) -> None:
    """The least a command that reads once and writes once costs here: a Query that returns the partition's newest
    item (as a load asks for it), then the PutItem of the next event."""
    client.query(
        TableName=table,
        KeyConditionExpression="aggregate_id = :id",
        ExpressionAttributeValues={":id": event["aggregate_id"]},
        ScanIndexForward=False,
        ConsistentRead=True,
        Limit=1,
    )
    _put(client, table, event)


def _where_time_goes(client: DynamoDBClient, service: AccountService, commands: int) -> tuple[str, str]:
    def work() -> None:
        _deposits(service, "warm", commands)

    everything = profiling.hot_spots(profiling.everything(work))
    ours = profiling.hot_spots(profiling.own_code(client, work), cumulative=True)
    return everything, ours
