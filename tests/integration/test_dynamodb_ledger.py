"""The account service over the DynamoDB event store on moto: calls made, snapshots, upcasting, idempotency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.topology import EVENTS, IDEMPOTENCY
from ledger import bootstrap
from ledger.adapters.dynamodb_event_store import DynamoDBEventStore, event_item, snapshot_seq
from ledger.application.account_service import AccountService, CommandContext, IdempotencyRequest
from ledger.application.errors import ConcurrencyConflictError
from ledger.application.records import EventRecord, IdempotencyRecord, SnapshotRecord
from ledger.domain.accounts import DepositMoney, OpenAccount, WithdrawMoney
from ledger.settings import Settings
from local.resources import create_tables


@dataclass
class Calls:
    """Every DynamoDB operation the client sends, and the items its Queries read."""

    operations: Counter[str] = field(default_factory=Counter)
    items_read: int = 0

    def reset(self) -> None:
        self.operations.clear()
        self.items_read = 0


@dataclass
class Ledger:
    client: Any
    calls: Calls
    store: DynamoDBEventStore
    service: AccountService
    event_table: str


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with mock_aws():
        client = boto3.client("dynamodb")
        names = create_tables(client)
        calls = Calls()

        def before(model: Any, **_: Any) -> None:
            calls.operations[model.name] += 1

        def after(model: Any, parsed: dict[str, Any], **_: Any) -> None:
            calls.items_read += int(parsed.get("ScannedCount", 0))

        client.meta.events.register("before-call.dynamodb", before)
        client.meta.events.register("after-call.dynamodb", after)
        settings = Settings(
            event_table=names[EVENTS.env_var], idempotency_table=names[IDEMPOTENCY.env_var], snapshot_interval=10
        )
        store = bootstrap.dynamodb_event_store(settings, client)
        assert isinstance(store, DynamoDBEventStore)
        yield Ledger(client, calls, store, bootstrap.build_service(store, settings), settings.event_table)


CTX = CommandContext("corr", "req")


def test_a_command_costs_one_query_and_one_put_and_a_read_one_query_of_one_item(ledger: Ledger) -> None:
    ledger.service.execute(OpenAccount("acc-1", "Ann", "USD", 10_000), CTX)
    ledger.service.cache.forget("acc-1")  # a cold process
    ledger.calls.reset()
    ledger.service.execute(DepositMoney("acc-1", 5_000), CTX)
    assert ledger.calls.operations == Counter({"Query": 1, "PutItem": 1})
    assert ledger.calls.items_read == 1
    ledger.calls.reset()
    ledger.service.execute(DepositMoney("acc-1", 5_000), CTX)  # a warm one: its cached state is the base
    assert ledger.calls.operations == Counter({"PutItem": 1})
    ledger.calls.reset()
    assert ledger.service.get("acc-1").balance == 20_000
    assert ledger.calls.operations == Counter({"Query": 1})
    assert ledger.calls.items_read == 1


def test_no_code_path_updates_or_deletes_an_item(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 100), CommandContext("c", "r", IdempotencyRequest("k", "me", "f")))
    for amount in range(1, 25):
        svc.execute(DepositMoney("acc-1", amount), CTX)
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 100), CommandContext("c", "r", IdempotencyRequest("k", "me", "f")))
    svc.get("acc-1", version=3)
    svc.history("acc-1", after=0, limit=5)
    assert set(ledger.calls.operations) <= {"Query", "PutItem", "TransactWriteItems", "GetItem"}
    assert ledger.calls.operations["TransactWriteItems"] >= 3  # the idempotent open and two snapshots


def test_a_load_reads_one_item_whatever_the_history_length(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(44):
        svc.execute(DepositMoney("acc-1", 1), CTX)
    ledger.calls.reset()
    state = svc.get("acc-1")
    assert (state.version, state.balance) == (45, 44)
    assert ledger.calls.operations == Counter({"Query": 1})
    assert ledger.calls.items_read == 1  # the newest event carries the state

    seqs = [item["seq"]["N"] for item in ledger.client.scan(TableName=ledger.event_table)["Items"]]
    assert sorted(s for s in seqs if "." in s) == sorted(snapshot_seq(v) for v in (10, 20, 30, 40))


def test_a_snapshot_that_no_longer_decodes_is_skipped(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 5), CTX)
    for _ in range(11):
        svc.execute(DepositMoney("acc-1", 1), CTX)
    ledger.client.put_item(  # an older release's snapshot of version 12, in a shape this one cannot read
        TableName=ledger.event_table,
        Item={
            "aggregate_id": {"S": "acc-1"},
            "seq": {"N": snapshot_seq(12)},
            "kind": {"S": "snapshot"},
            "aggregate_type": {"S": "Account"},
            "version": {"N": "12"},
            "schema_version": {"N": "1"},
            "state": {"M": {"balance": {"S": "lots"}}},
            "taken_at": {"S": "2020-01-01T00:00:00.000Z"},
        },
    )
    assert svc.get("acc-1").balance == 16


def test_a_v1_account_created_written_by_an_old_release_is_upcast(ledger: Ledger) -> None:
    v1 = EventRecord(
        "Account",
        "old-1",
        1,
        "00000000-0000-4000-8000-000000000001",
        "AccountCreated",
        1,
        "2020-01-01T00:00:00.000Z",
        {"account_id": "old-1", "owner": "Old Timer", "initial_deposit": 2_500},
        {"correlation_id": "legacy", "causation_id": "legacy"},
    )
    ledger.client.put_item(TableName=ledger.event_table, Item=event_item(v1))
    outcome = ledger.service.execute(WithdrawMoney("old-1", 500), CTX)
    assert (outcome.account.currency, outcome.account.balance) == ("USD", 2_000)
    (first, _), _ = ledger.service.history("old-1", after=0, limit=10)
    assert first.schema_version == 2
    assert first.data["initial_balance"] == 2_500
    assert "initial_deposit" not in first.data
    stored = ledger.client.get_item(
        TableName=ledger.event_table, Key={"aggregate_id": {"S": "old-1"}, "seq": {"N": "1"}}
    )
    assert stored["Item"]["schema_version"] == {"N": "1"}  # the stored event itself is never rewritten


class CrashingStore(DynamoDBEventStore):
    crash = False

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        super().append(events, snapshot=snapshot, idempotency=idempotency)
        if self.crash:
            self.crash = False
            raise TimeoutError("Task timed out after the write")


def test_an_idempotent_command_that_crashed_after_its_append_is_answered_from_its_record(ledger: Ledger) -> None:
    store = CrashingStore(ledger.client, event_table=ledger.event_table, idempotency_table=ledger.store._idempotency)
    svc = AccountService(store)
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 300), CTX)
    context = CommandContext("c", "r", IdempotencyRequest("key-1", "me", "withdraw 300"))
    store.crash = True
    with pytest.raises(TimeoutError):
        svc.execute(WithdrawMoney("acc-1", 300), context)

    repeat = svc.execute(WithdrawMoney("acc-1", 300), context)

    assert repeat.replayed
    assert (repeat.account.balance, repeat.account.version) == (0, 2)
    assert [e.version for e in svc.history("acc-1", after=0, limit=10)[0]] == [1, 2]


class RacingStore(DynamoDBEventStore):
    """Another writer appends the next version between this writer's load and its append, `races` times."""

    races = 0

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        if self.races and events[0].event_type == "MoneyDeposited":
            self.races -= 1
            rival = EventRecord(**{**events[0].__dict__, "event_id": f"rival-{self.races}"})
            self._client.put_item(TableName=self._events, Item=event_item(rival))
        super().append(events, snapshot=snapshot, idempotency=idempotency)


def test_a_conditional_append_never_overwrites_and_the_loser_retries(ledger: Ledger) -> None:
    store = RacingStore(ledger.client, event_table=ledger.event_table, idempotency_table=ledger.store._idempotency)
    svc = AccountService(store)
    svc.execute(OpenAccount("acc-1", "Ann"), CTX)
    store.races = 2
    assert svc.execute(DepositMoney("acc-1", 10), CTX).account.version == 4
    store.races = 99
    with pytest.raises(ConcurrencyConflictError):
        svc.execute(DepositMoney("acc-1", 10), CTX)
    versions = [e.version for e in svc.history("acc-1", after=0, limit=100)[0]]
    assert versions == list(range(1, len(versions) + 1))


def test_snapshot_items_are_told_apart_from_events_on_the_stream(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(10):
        svc.execute(DepositMoney("acc-1", 1), CTX)
    streams = boto3.client("dynamodbstreams")
    arn = ledger.client.describe_table(TableName=ledger.event_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    kinds = Counter(r["dynamodb"]["NewImage"]["kind"]["S"] for r in records)
    assert kinds == Counter({"event": 11, "snapshot": 1})
    assert all(r["eventName"] == "INSERT" for r in records)
