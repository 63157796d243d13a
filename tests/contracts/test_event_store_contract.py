"""One contract, every EventStore: the in-memory store (unit speed) and the DynamoDB store (on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from infra.topology import EVENTS, IDEMPOTENCY
from ledger.adapters.dynamodb_event_store import DynamoDBEventStore
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.errors import ConcurrencyConflictError, IdempotencyKeyInUseError
from ledger.application.ports import EventStore
from ledger.application.records import EventRecord, IdempotencyRecord, SnapshotRecord
from local.resources import create_tables


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    with mock_aws():
        client = boto3.client("dynamodb")
        names = create_tables(client)
        yield DynamoDBEventStore(
            client, event_table=names[EVENTS.env_var], idempotency_table=names[IDEMPOTENCY.env_var]
        )


def event(version: int, aggregate: str = "acc-1", at: str | None = None, **data: object) -> EventRecord:
    return EventRecord(
        aggregate_type="Account",
        aggregate_id=aggregate,
        version=version,
        event_id=f"00000000-0000-4000-8000-{version:012d}",
        event_type="MoneyDeposited",
        schema_version=1,
        occurred_at=at or f"2026-11-26T08:00:{version % 60:02d}.{version // 60:03d}Z",
        data={"account_id": aggregate, "amount": version, "description": None, **data},
        metadata={"correlation_id": "c", "causation_id": "r"},
    )


def snapshot(version: int, aggregate: str = "acc-1") -> SnapshotRecord:
    return SnapshotRecord("Account", aggregate, version, 1, {"balance": version, "nested": {"ok": True}}, "t")


def idempotency(
    key: str = "caller|k", recorded_at: str = "2026-11-26T08:00:00.000Z", ttl: int = 60
) -> IdempotencyRecord:
    recorded = IdempotencyRecord(key, "fp", "Account", "acc-1", 1, True, {"balance": 1}, 1, recorded_at, 0)
    return replace(recorded, expires_at=recorded.recorded_epoch + ttl)


def test_appended_events_read_back_unchanged_in_both_directions(store: EventStore) -> None:
    events = [event(1, note=None, tags=["a", "b"], flag=True), event(2)]
    store.append(events)
    assert store.read_forward("acc-1", after=0, limit=10) == events
    assert list(store.read_backward("acc-1")) == events[::-1]


def test_a_taken_version_is_a_conflict_and_nothing_of_the_batch_is_stored(store: EventStore) -> None:
    store.append([event(1)])
    with pytest.raises(ConcurrencyConflictError):
        store.append([event(1, amount=99)])
    with pytest.raises(ConcurrencyConflictError):
        store.append([event(2), event(1, amount=99)], snapshot=snapshot(2))
    assert store.read_forward("acc-1", after=0, limit=10) == [event(1)]
    assert list(store.read_backward("acc-1")) == [event(1)]


def test_several_events_are_appended_atomically(store: EventStore) -> None:
    store.append([event(1), event(2), event(3)])
    assert [e.version for e in store.read_forward("acc-1", after=0, limit=10)] == [1, 2, 3]


def test_a_snapshot_comes_just_before_its_event_reading_backward(store: EventStore) -> None:
    store.append([event(1), event(2)])
    store.append([event(3)], snapshot=snapshot(3))
    store.append([event(4)])
    items = list(store.read_backward("acc-1"))
    assert items == [event(4), snapshot(3), event(3), event(2), event(1)]
    assert list(store.read_backward("acc-1", to_version=3)) == [snapshot(3), event(3), event(2), event(1)]
    assert list(store.read_backward("acc-1", to_version=2)) == [event(2), event(1)]


def test_reading_backward_is_lazy_across_pages(store: EventStore) -> None:
    store.append([event(v) for v in range(1, 8)])
    reader = store.read_backward("acc-1", page_size=3)
    assert [next(reader).version for _ in range(5)] == [7, 6, 5, 4, 3]


def test_reading_forward_skips_snapshots_and_honours_after_and_limit(store: EventStore) -> None:
    store.append([event(1), event(2)], snapshot=snapshot(2))
    store.append([event(3), event(4)], snapshot=snapshot(4))
    assert [e.version for e in store.read_forward("acc-1", after=1, limit=2)] == [2, 3]
    assert [e.version for e in store.read_forward("acc-1", after=2, limit=10)] == [3, 4]
    assert store.read_forward("acc-1", after=4, limit=10) == []
    assert store.read_forward("nobody", after=0, limit=10) == []


def test_streams_of_different_aggregates_are_independent(store: EventStore) -> None:
    store.append([event(1, "a")])
    store.append([event(1, "b"), event(2, "b")])
    assert [e.version for e in store.read_forward("a", after=0, limit=10)] == [1]
    assert [e.aggregate_id for e in store.read_backward("b")] == ["b", "b"]


def test_version_at_an_instant(store: EventStore) -> None:
    store.append([event(1, at="2026-11-26T08:00:00.000Z"), event(2, at="2026-11-26T09:00:00.000Z")])
    store.append([event(3, at="2026-11-26T09:00:00.000Z")])
    assert store.version_at("acc-1", "2026-11-26T07:59:59.999Z") is None
    assert store.version_at("acc-1", "2026-11-26T08:00:00.000Z") == 1
    assert store.version_at("acc-1", "2026-11-26T08:59:59.999Z") == 1
    assert store.version_at("acc-1", "2026-11-26T09:00:00.000Z") == 3  # the last of equal instants
    assert store.version_at("acc-1", "2027-01-01T00:00:00.000Z") == 3


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
    assert [e.version for e in store.read_forward("acc-1", after=0, limit=10)] == [1]


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
    assert list(store.read_backward("acc-1")) == [event(2), with_state]
    assert store.read_forward("acc-1", after=0, limit=1) == [with_state]


def test_aggregate_ids_lists_each_stream_of_a_type_once(store: EventStore) -> None:
    store.append([event(1, "a"), event(2, "a")])
    store.append([event(1, "b")], snapshot=snapshot(1, "b"))
    store.append([replace(event(1, "o"), aggregate_type="Order")])
    assert sorted(store.aggregate_ids("Account")) == ["a", "b"]
    assert list(store.aggregate_ids("Order")) == ["o"]
