"""One contract, every EventStore: the in-memory store (unit speed) and the DynamoDB store (on moto), the latter both
as the ledger builds it (accounts on bare stream keys) and with every type's streams scoped. Then what only the
DynamoDB store has: how it keys each stream in the table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from infra.topology import EVENTS
from ledger.adapters.dynamodb_event_store import DynamoDBEventStore, record_of_item, stream_key
from ledger.catalog import AGGREGATES
from ledger.kernel.errors import ConcurrencyConflictError, IdempotencyKeyInUseError
from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId
from local.resources import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACC_1 = StreamId("Account", "acc-1")


def event(
    version: int, aggregate: str = "acc-1", at: str | None = None, aggregate_type: str = "Account", **data: object
) -> EventRecord:
    return EventRecord(
        aggregate_type=aggregate_type,
        aggregate_id=aggregate,
        version=version,
        event_id=f"00000000-0000-4000-8000-{version:012d}",
        event_type="MoneyDeposited",
        schema_version=1,
        occurred_at=at or f"2026-11-26T08:00:{version % 60:02d}.{version // 60:03d}Z",
        data={"account_id": aggregate, "amount": version, "description": None, **data},
        metadata={"correlation_id": "c", "causation_id": "r"},
    )


def snapshot(version: int, aggregate: str = "acc-1", aggregate_type: str = "Account") -> SnapshotRecord:
    return SnapshotRecord(aggregate_type, aggregate, version, 1, {"balance": version, "nested": {"ok": True}}, "t")


def idempotency(
    key: str = "caller|k", recorded_at: str = "2026-11-26T08:00:00.000Z", ttl: int = 60
) -> IdempotencyRecord:
    recorded = IdempotencyRecord(key, "fp", "Account", "acc-1", 1, True, {"balance": 1}, 1, recorded_at, 0)
    return replace(recorded, expires_at=recorded.recorded_epoch + ttl)


def test_appended_events_read_back_unchanged_in_both_directions(store: EventStore) -> None:
    events = [event(1, note=None, tags=["a", "b"], flag=True), event(2)]
    store.append(events)
    assert store.read_forward(ACC_1, after=0, limit=10) == events
    assert list(store.read_backward(ACC_1)) == events[::-1]


def test_a_taken_version_is_a_conflict_and_nothing_of_the_batch_is_stored(store: EventStore) -> None:
    store.append([event(1)])
    with pytest.raises(ConcurrencyConflictError):
        store.append([event(1, amount=99)])
    with pytest.raises(ConcurrencyConflictError):
        store.append([event(2), event(1, amount=99)], snapshot=snapshot(2))
    assert store.read_forward(ACC_1, after=0, limit=10) == [event(1)]
    assert list(store.read_backward(ACC_1)) == [event(1)]


def test_a_conflict_returns_the_event_that_took_the_version_with_its_state(store: EventStore) -> None:
    # GIVEN versions 1 and 2, the second with the state after it
    winner = replace(event(2), state={"balance": 3, "nested": {"ok": True}}, state_schema_version=1)
    store.append([event(1), winner])
    # WHEN a writer that loaded version 1 appends version 2, alone or with more (a transaction in DynamoDB)
    with pytest.raises(ConcurrencyConflictError) as alone:
        store.append([event(2, amount=99)])
    with pytest.raises(ConcurrencyConflictError) as together:
        store.append([event(2, amount=99), event(3)], snapshot=snapshot(3), idempotency=idempotency())
    # THEN the refusal carries the event that holds version 2, state included: a retry needs no read
    assert alone.value.taken == winner
    assert together.value.taken == winner


def test_several_events_are_appended_atomically(store: EventStore) -> None:
    store.append([event(1), event(2), event(3)])
    assert [e.version for e in store.read_forward(ACC_1, after=0, limit=10)] == [1, 2, 3]


def test_a_snapshot_comes_just_before_its_event_reading_backward(store: EventStore) -> None:
    store.append([event(1), event(2)])
    store.append([event(3)], snapshot=snapshot(3))
    store.append([event(4)])
    items = list(store.read_backward(ACC_1))
    assert items == [event(4), snapshot(3), event(3), event(2), event(1)]
    assert list(store.read_backward(ACC_1, to_version=3)) == [snapshot(3), event(3), event(2), event(1)]
    assert list(store.read_backward(ACC_1, to_version=2)) == [event(2), event(1)]


def test_reading_backward_is_lazy_across_pages(store: EventStore) -> None:
    store.append([event(v) for v in range(1, 8)])
    reader = store.read_backward(ACC_1, page_size=3)
    assert [next(reader).version for _ in range(5)] == [7, 6, 5, 4, 3]


def test_reading_forward_skips_snapshots_and_honours_after_and_limit(store: EventStore) -> None:
    store.append([event(1), event(2)], snapshot=snapshot(2))
    store.append([event(3), event(4)], snapshot=snapshot(4))
    assert [e.version for e in store.read_forward(ACC_1, after=1, limit=2)] == [2, 3]
    assert [e.version for e in store.read_forward(ACC_1, after=2, limit=10)] == [3, 4]
    assert store.read_forward(ACC_1, after=4, limit=10) == []
    assert store.read_forward(StreamId("Account", "nobody"), after=0, limit=10) == []


def test_streams_of_different_aggregates_are_independent(store: EventStore) -> None:
    store.append([event(1, "a")])
    store.append([event(1, "b"), event(2, "b")])
    assert [e.version for e in store.read_forward(StreamId("Account", "a"), after=0, limit=10)] == [1]
    assert [e.aggregate_id for e in store.read_backward(StreamId("Account", "b"))] == ["b", "b"]


def test_aggregates_of_different_types_with_the_same_id_have_separate_streams(store: EventStore) -> None:
    # GIVEN an account, an order and an invoice that share the id "x", each with its own history
    account = [event(1, "x", at="2026-11-26T08:00:00.000Z")]
    order = [
        event(1, "x", at="2026-11-26T07:00:00.000Z", aggregate_type="Order"),
        event(2, "x", at="2026-11-26T09:00:00.000Z", aggregate_type="Order"),
    ]
    store.append(account)
    # WHEN the order appends versions the account already holds, with a snapshot of the same version
    store.append(order, snapshot=snapshot(1, "x", aggregate_type="Order"))  # no conflict: another stream
    store.append([event(1, "x", aggregate_type="Invoice")])
    # THEN each stream reads back only its own events, in both directions
    assert store.read_forward(StreamId("Account", "x"), after=0, limit=10) == account
    assert store.read_forward(StreamId("Order", "x"), after=0, limit=10) == order
    assert list(store.read_backward(StreamId("Account", "x"))) == account
    assert list(store.read_backward(StreamId("Order", "x"))) == [
        order[1],
        snapshot(1, "x", aggregate_type="Order"),
        order[0],
    ]
    assert [e.aggregate_type for e in store.read_forward(StreamId("Invoice", "x"), after=0, limit=10)] == ["Invoice"]
    assert store.read_forward(StreamId("Refund", "x"), after=0, limit=10) == []
    # AND the version at an instant is the stream's own
    assert store.version_at(StreamId("Account", "x"), "2026-11-26T07:30:00.000Z") is None
    assert store.version_at(StreamId("Order", "x"), "2026-11-26T07:30:00.000Z") == 1
    assert store.version_at(StreamId("Account", "x"), "2026-11-26T09:30:00.000Z") == 1
    assert store.version_at(StreamId("Order", "x"), "2026-11-26T09:30:00.000Z") == 2
    # AND each type lists the id once, under its own type only
    assert list(store.aggregate_ids("Account")) == ["x"]
    assert list(store.aggregate_ids("Order")) == ["x"]
    assert list(store.aggregate_ids("Invoice")) == ["x"]
    assert list(store.aggregate_ids("Refund")) == []


def test_version_at_an_instant(store: EventStore) -> None:
    store.append([event(1, at="2026-11-26T08:00:00.000Z"), event(2, at="2026-11-26T09:00:00.000Z")])
    store.append([event(3, at="2026-11-26T09:00:00.000Z")])
    assert store.version_at(ACC_1, "2026-11-26T07:59:59.999Z") is None
    assert store.version_at(ACC_1, "2026-11-26T08:00:00.000Z") == 1
    assert store.version_at(ACC_1, "2026-11-26T08:59:59.999Z") == 1
    assert store.version_at(ACC_1, "2026-11-26T09:00:00.000Z") == 3  # the last of equal instants
    assert store.version_at(ACC_1, "2027-01-01T00:00:00.000Z") == 3


def test_an_idempotency_record_is_stored_with_its_events(store: EventStore) -> None:
    record = idempotency()
    store.append([event(1)], idempotency=record)
    assert store.idempotency_record("caller|k", now=record.recorded_epoch) == record


def test_a_live_idempotency_key_cancels_the_whole_append(store: EventStore) -> None:
    store.append([event(1)], idempotency=idempotency())
    with pytest.raises(IdempotencyKeyInUseError):
        store.append([event(2)], idempotency=idempotency())
    with pytest.raises(IdempotencyKeyInUseError):  # the key wins over the version conflict
        store.append([event(1)], idempotency=idempotency())
    assert [e.version for e in store.read_forward(ACC_1, after=0, limit=10)] == [1]


def test_an_expired_idempotency_record_is_gone_and_its_key_reusable(store: EventStore) -> None:
    first = idempotency(ttl=60)
    store.append([event(1)], idempotency=first)
    assert store.idempotency_record("caller|k", now=first.expires_at + 1) is None
    later = idempotency(recorded_at="2026-11-26T09:00:00.000Z")
    store.append([event(2)], idempotency=later)
    assert store.idempotency_record("caller|k", now=later.recorded_epoch) == later


def test_the_state_an_event_carries_reads_back_with_it(store: EventStore) -> None:
    with_state = replace(event(1), state={"balance": 1, "status": "open", "owner": None}, state_schema_version=3)
    store.append([with_state, event(2)])
    assert list(store.read_backward(ACC_1)) == [event(2), with_state]
    assert store.read_forward(ACC_1, after=0, limit=1) == [with_state]


def test_aggregate_ids_lists_each_stream_of_a_type_once(store: EventStore) -> None:
    store.append([event(1, "a"), event(2, "a")])
    store.append([event(1, "b")], snapshot=snapshot(1, "b"))
    store.append([event(1, "o", aggregate_type="Order")])
    assert sorted(store.aggregate_ids("Account")) == ["a", "b"]
    assert list(store.aggregate_ids("Order")) == ["o"]


# --- the DynamoDB store only: how a stream is keyed in the table ---------------------------------------------


@dataclass
class Table:
    client: DynamoDBClient
    name: str
    store: DynamoDBEventStore

    def partition_keys(self) -> set[str]:
        return {item["aggregate_id"]["S"] for item in self.client.scan(TableName=self.name).get("Items", [])}


@pytest.fixture
def table() -> Iterator[Table]:
    with mock_aws():
        client = boto3.client("dynamodb")
        names = create_tables(client)
        name = names[EVENTS.env_var]
        store = DynamoDBEventStore(client, event_table=name, bare_stream_key_types=AGGREGATES.bare_stream_key_types)
        yield Table(client, name, store)


def test_the_ledger_keeps_accounts_on_bare_stream_keys() -> None:
    assert AGGREGATES.bare_stream_key_types == frozenset({"Account"})


def test_a_scoped_type_is_keyed_by_type_and_id_and_a_bare_type_by_its_id_alone(table: Table) -> None:
    # WHEN an account, an order with another id and an order with the account's id are stored
    table.store.append([event(1, "acc-1")], snapshot=snapshot(1, "acc-1"))
    table.store.append([event(1, "o-1", aggregate_type="Order")], snapshot=snapshot(1, "o-1", aggregate_type="Order"))
    table.store.append([event(1, "acc-1", aggregate_type="Order")])
    # THEN the account's items sit under its bare id, each order's under "Order#<id>"
    assert table.partition_keys() == {"acc-1", "Order#o-1", "Order#acc-1"}
    assert stream_key(StreamId("Account", "acc-1"), AGGREGATES.bare_stream_key_types) == "acc-1"
    assert stream_key(StreamId("Order", "o-1"), AGGREGATES.bare_stream_key_types) == "Order#o-1"
    assert table.store.item_of(snapshot(1, "o-1", aggregate_type="Order"))["aggregate_id"] == {"S": "Order#o-1"}
    # AND every record read back, through the store or from a raw item, carries the plain id
    assert [e.aggregate_id for e in table.store.read_backward(StreamId("Order", "o-1"))] == ["o-1", "o-1"]
    items = table.client.scan(TableName=table.name)["Items"]
    assert sorted((r.aggregate_type, r.aggregate_id) for r in map(record_of_item, items)) == [
        ("Account", "acc-1"),
        ("Account", "acc-1"),
        ("Order", "acc-1"),
        ("Order", "o-1"),
        ("Order", "o-1"),
    ]


def test_a_bare_keyed_type_refuses_an_id_holding_the_scope_separator(table: Table) -> None:
    # GIVEN an account id that, as a bare key, would look like another type's scoped key
    forged = StreamId("Account", "Order#o-1")
    # WHEN it is appended or read THEN the store refuses, and writes nothing
    with pytest.raises(ValueError, match="bare key"):
        table.store.append([event(1, forged.aggregate_id)])
    with pytest.raises(ValueError, match="bare key"):
        table.store.read_forward(forged, after=0, limit=10)
    with pytest.raises(ValueError, match="bare key"):
        list(table.store.read_backward(forged))
    with pytest.raises(ValueError, match="bare key"):
        table.store.version_at(forged, "2026-11-26T08:00:00.000Z")
    with pytest.raises(ValueError, match="bare key"):
        stream_key(forged, AGGREGATES.bare_stream_key_types)
    assert table.partition_keys() == set()
    # AND a scoped type takes the same id: its key holds the type, so it cannot collide
    table.store.append([event(1, "a#b", aggregate_type="Order")])
    assert table.partition_keys() == {"Order#a#b"}
    assert [e.aggregate_id for e in table.store.read_forward(StreamId("Order", "a#b"), after=0, limit=10)] == ["a#b"]
