"""The account service over the DynamoDB event store on moto: calls made, snapshots, upcasting, idempotency."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.topology import EVENTS, IDEMPOTENCY
from ledger import bootstrap
from ledger.adapters.dynamodb_event_store import DynamoDBEventStore, event_item, snapshot_seq, stream_key
from ledger.application.accounts import ACCOUNT
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import DepositMoney, OpenAccount, WithdrawMoney
from ledger.kernel.components import Root
from ledger.kernel.errors import ConcurrencyConflictError
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId
from ledger.kernel.service import CommandContext, IdempotencyRequest
from local.resources import create_tables
from tests.ledger_fixtures import AccountService, account_service


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
    idempotency_table: str

    def store_like_the_ledgers(self, store_class: type[DynamoDBEventStore]) -> DynamoDBEventStore:
        """A store of `store_class` on the same tables, keying streams as the ledger's own store does."""
        return store_class(
            self.client,
            event_table=self.event_table,
            idempotency_table=self.idempotency_table,
            bare_stream_key_types=AGGREGATES.bare_stream_key_types,
        )

    def partition_keys(self) -> set[str]:
        return {item["aggregate_id"]["S"] for item in self.client.scan(TableName=self.event_table)["Items"]}


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
        # The command function's own wiring (the topology's settings), with a snapshot every 10 versions.
        root = Root({**os.environ, **names, "SNAPSHOT_INTERVAL": "10"}).provide(bootstrap.DYNAMODB, client)
        store = root.get(bootstrap.COMMAND_STORE)
        assert isinstance(store, DynamoDBEventStore)
        service = root.get(bootstrap.command_service(ACCOUNT))
        assert service.store is store
        yield Ledger(client, calls, store, service, names[EVENTS.env_var], names[IDEMPOTENCY.env_var])


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
    assert ledger.service.reader.get("acc-1").balance == 20_000
    assert ledger.calls.operations == Counter({"Query": 1})
    assert ledger.calls.items_read == 1


def test_accounts_are_stored_under_their_bare_ids_as_before_ids_were_scoped(ledger: Ledger) -> None:
    # GIVEN an account stream written before stream keys were scoped by type (its key is the bare id)
    old = EventRecord(
        "Account",
        "old-1",
        1,
        "00000000-0000-4000-8000-000000000001",
        "AccountCreated",
        2,
        "2020-01-01T00:00:00.000Z",
        {"account_id": "old-1", "owner": "Old Timer", "currency": "USD", "initial_balance": 100},
        {"correlation_id": "legacy", "causation_id": "legacy"},
    )
    ledger.client.put_item(TableName=ledger.event_table, Item=event_item(old, "old-1"))
    # WHEN the command function opens a new account and changes the old one
    ledger.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    ledger.service.execute(DepositMoney("old-1", 50), CTX)
    # THEN both streams are keyed by the bare account id, so the old stream is read and continued, not forked
    assert ledger.partition_keys() == {"acc-1", "old-1"}
    assert ledger.service.reader.read("old-1").version == 2
    assert ledger.service.reader.get("old-1").balance == 150


def test_no_code_path_updates_or_deletes_an_item(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 100), CommandContext("c", "r", IdempotencyRequest("k", "me", "f")))
    for amount in range(1, 25):
        svc.execute(DepositMoney("acc-1", amount), CTX)
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 100), CommandContext("c", "r", IdempotencyRequest("k", "me", "f")))
    svc.reader.get("acc-1", version=3)
    svc.reader.history("acc-1", after=0, limit=5)
    assert set(ledger.calls.operations) <= {"Query", "PutItem", "TransactWriteItems", "GetItem"}
    assert ledger.calls.operations["TransactWriteItems"] >= 3  # the idempotent open and two snapshots


def test_a_load_reads_one_item_whatever_the_history_length(ledger: Ledger) -> None:
    svc = ledger.service
    svc.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(44):
        svc.execute(DepositMoney("acc-1", 1), CTX)
    ledger.calls.reset()
    state = svc.reader.get("acc-1")
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
    # an older release's snapshot of version 12, in a shape this one cannot read
    unreadable = SnapshotRecord("Account", "acc-1", 12, 1, {"balance": "lots"}, "2020-01-01T00:00:00.000Z")
    ledger.client.put_item(TableName=ledger.event_table, Item=ledger.store.item_of(unreadable))
    assert next(ledger.store.read_backward(StreamId("Account", "acc-1"))) == unreadable  # the first item a load reads
    assert svc.reader.get("acc-1").balance == 16


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
    key = stream_key(v1.stream, AGGREGATES.bare_stream_key_types)
    ledger.client.put_item(TableName=ledger.event_table, Item=ledger.store.item_of(v1))
    outcome = ledger.service.execute(WithdrawMoney("old-1", 500), CTX)
    assert (outcome.state.currency, outcome.state.balance) == ("USD", 2_000)
    (first, _), _ = ledger.service.reader.history("old-1", after=0, limit=10)
    assert first.schema_version == 2
    assert first.data["initial_balance"] == 2_500
    assert "initial_deposit" not in first.data
    stored = ledger.client.get_item(TableName=ledger.event_table, Key={"aggregate_id": {"S": key}, "seq": {"N": "1"}})
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
    store = ledger.store_like_the_ledgers(CrashingStore)
    assert isinstance(store, CrashingStore)
    svc = account_service(store)
    svc.execute(OpenAccount("acc-1", "Ann", "USD", 300), CTX)
    context = CommandContext("c", "r", IdempotencyRequest("key-1", "me", "withdraw 300"))
    store.crash = True
    with pytest.raises(TimeoutError):
        svc.execute(WithdrawMoney("acc-1", 300), context)

    repeat = svc.execute(WithdrawMoney("acc-1", 300), context)

    assert repeat.idempotent_replay
    assert (repeat.state.balance, repeat.state.version, repeat.version) == (0, 2, 2)
    assert [e.version for e in svc.reader.history("acc-1", after=0, limit=10)[0]] == [1, 2]


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
        if self.races and events[0].event_type in ("MoneyDeposited", "MoneyWithdrawn"):
            self.races -= 1
            rival = replace(events[0], event_id=f"rival-{self.races}")
            self._client.put_item(TableName=self._events, Item=self.item_of(rival))
        super().append(events, snapshot=snapshot, idempotency=idempotency)


def test_a_conditional_append_never_overwrites_and_the_loser_retries(ledger: Ledger) -> None:
    store = ledger.store_like_the_ledgers(RacingStore)
    assert isinstance(store, RacingStore)
    svc = account_service(store)
    svc.execute(OpenAccount("acc-1", "Ann", initial_balance=1_000), CTX)
    store.races = 2
    assert svc.execute(DepositMoney("acc-1", 10), CTX).version == 4
    store.races = 99
    with pytest.raises(ConcurrencyConflictError):  # a withdrawal does not commute: it gives up after max_attempts
        svc.execute(WithdrawMoney("acc-1", 10), CTX)
    versions = [e.version for e in svc.reader.history("acc-1", after=0, limit=100)[0]]
    assert versions == list(range(1, len(versions) + 1))
    assert [e.event_id for e in svc.reader.history("acc-1", after=1, limit=2)[0]] == ["rival-1", "rival-0"]


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
