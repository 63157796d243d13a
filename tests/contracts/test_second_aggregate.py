"""A second aggregate, declared only in tests (tests/counter.py), runs through the same generic command service and
reader on every event store: conditional append, retries, idempotency, snapshots, temporal reads, history and ids
scoped by type. Nothing in the kernel names it."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryStateViews
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import OpenAccount
from ledger.domain.errors import InvalidCommandError
from ledger.kernel.aggregate import Registry
from ledger.kernel.errors import IdempotencyKeyReusedError, PreconditionFailedError, VersionNotFoundError
from ledger.kernel.ports import EventStore
from ledger.kernel.projections import StateProjection, rebuild
from ledger.kernel.records import SnapshotRecord, StreamId
from ledger.kernel.repository import Repository
from ledger.kernel.service import CommandContext, CommandService, IdempotencyRequest
from tests.counter import (
    COUNTER,
    BelowZeroError,
    Counter,
    CounterCommand,
    CounterEvent,
    CounterExistsError,
    CounterNotFoundError,
    CreateCounter,
    Decrement,
    Increment,
)
from tests.ledger_fixtures import account_service, service_settings

REGISTRY = Registry([ACCOUNT, COUNTER])
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

CounterService = CommandService[CounterCommand, CounterEvent, Counter]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def counters(store: EventStore, **settings: int) -> CounterService:
    return CommandService(COUNTER, store, service_settings(**settings), clock=Clock())


def ctx(key: str | None = None, *, body: str = "{}", expected_version: int | None = None) -> CommandContext:
    idempotency = IdempotencyRequest(key, "caller", body) if key else None
    return CommandContext("corr", "req", idempotency=idempotency, expected_version=expected_version)


def test_a_counter_is_created_moved_and_read_back(store: EventStore) -> None:
    service = counters(store)
    created = service.execute(CreateCounter("c-1", start=2), ctx())
    service.execute(Increment("c-1", by=5), ctx())
    moved = service.execute(Decrement("c-1", by=3), ctx())

    assert created.created
    assert (created.version, created.state.value) == (1, 2)
    assert not moved.created
    assert (moved.version, moved.state.value) == (3, 4)
    assert service.reader.read("c-1").state == moved.state
    assert service.reader.read("c-1").version == 3


def test_the_counter_refuses_to_go_below_zero_and_records_nothing(store: EventStore) -> None:
    service = counters(store)
    service.execute(CreateCounter("c-1", start=1), ctx())
    with pytest.raises(BelowZeroError):
        service.execute(Decrement("c-1", by=2), ctx())
    with pytest.raises(InvalidCommandError):
        service.execute(Increment("c-1", by=0), ctx())
    assert [e.version for e in store.read_forward(StreamId("Counter", "c-1"), after=0, limit=10)] == [1]


def test_the_kernel_answers_existence_with_the_declared_errors(store: EventStore) -> None:
    service = counters(store)
    with pytest.raises(CounterNotFoundError, match="Counter 'c-9' does not exist"):
        service.execute(Increment("c-9"), ctx())
    with pytest.raises(CounterNotFoundError):
        service.reader.get("c-9")
    with pytest.raises(CounterNotFoundError):
        service.reader.history("c-9", after=0, limit=10)
    service.execute(CreateCounter("c-9"), ctx())
    with pytest.raises(CounterExistsError, match="Counter 'c-9' already exists"):
        service.execute(CreateCounter("c-9"), ctx())


def test_a_writer_that_lost_the_race_reloads_and_decides_again(store: EventStore) -> None:
    # GIVEN two processes that both hold the counter at version 1 (their caches), e.g. two warm Lambdas
    first, second = counters(store), counters(store)
    first.execute(CreateCounter("c-1", start=1), ctx())
    cached = first.cache.get("c-1")
    assert cached is not None
    second.cache.put("c-1", cached)
    # WHEN one takes version 2, then the other decides on its stale version 1
    first.execute(Decrement("c-1"), ctx())
    # THEN the second's append is refused, it reloads, and its refusal is decided on the fresh state (0, not 1)
    with pytest.raises(BelowZeroError):
        second.execute(Decrement("c-1"), ctx())
    assert second.execute(Increment("c-1", by=4), ctx()).version == 3
    history, _ = first.reader.history("c-1", after=0, limit=10)
    assert [(e.event_type, e.version) for e in history] == [
        ("CounterCreated", 1),
        ("Decremented", 2),
        ("Incremented", 3),
    ]


def test_racing_writers_all_land_through_conditional_appends_and_retries() -> None:
    # Threads on the in-memory store only: moto applies conditional writes without a lock, so two racing puts
    # can both pass their condition there (the local runtime serializes moto for the same reason).
    # Increments are declared commuting: they retry until the retry budget is spent, so even one attempt allowed to
    # the commands that do not commute takes nothing from them.
    store = InMemoryEventStore()
    counters(store).execute(CreateCounter("c-1"), ctx())
    writers = [counters(store, state_cache_size=0, max_attempts=1) for _ in range(6)]
    barrier = threading.Barrier(len(writers))

    def increment(service: CounterService) -> None:
        barrier.wait()
        service.execute(Increment("c-1"), ctx())

    threads = [threading.Thread(target=increment, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert counters(store).reader.get("c-1").value == 6
    history, _ = counters(store).reader.history("c-1", after=0, limit=100)
    assert [e.version for e in history] == list(range(1, 8))


def test_a_repeat_with_an_idempotency_key_answers_the_first_outcome_and_writes_nothing(store: EventStore) -> None:
    service = counters(store)
    service.execute(CreateCounter("c-1"), ctx())
    first = service.execute(Increment("c-1", by=2), ctx("k-1", body="two"))
    repeat = counters(store).execute(Increment("c-1", by=2), ctx("k-1", body="two"))  # another process

    assert repeat.idempotent_replay
    assert (repeat.state, repeat.version) == (first.state, first.version)
    assert service.reader.get("c-1").value == 2
    with pytest.raises(IdempotencyKeyReusedError):
        service.execute(Increment("c-1", by=3), ctx("k-1", body="three"))


def test_if_match_guards_a_counter_like_any_aggregate(store: EventStore) -> None:
    service = counters(store)
    service.execute(CreateCounter("c-1"), ctx())
    with pytest.raises(PreconditionFailedError, match="The counter is at version 1, not 4"):
        service.execute(Increment("c-1"), ctx(expected_version=4))
    assert service.execute(Increment("c-1"), ctx(expected_version=1)).version == 2


def test_snapshots_bound_a_load_whose_newest_events_carry_no_state_and_are_renewed_at_once(store: EventStore) -> None:
    service = counters(store, snapshot_interval=5)
    service.execute(CreateCounter("c-1"), ctx())
    for _ in range(9):
        service.execute(Increment("c-1"), ctx())  # versions 2..10: snapshots at 5 and 10
    stream = StreamId("Counter", "c-1")
    written_by_an_older_release = [  # events without the state after them (a writer that stored none)
        replace(record, version=record.version + 9, event_id=f"old-{record.version}", state=None)
        for record in store.read_forward(stream, after=1, limit=9)
    ]
    store.append(written_by_an_older_release)

    loaded = Repository(COUNTER, store, page_size=5).load("c-1")

    assert (loaded.version, loaded.events_folded) == (19, 9)  # folded on top of the snapshot of version 10
    assert loaded.state is not None
    assert loaded.state.value == 18
    counters(store, snapshot_interval=5).execute(Increment("c-1"), ctx())  # a load that folded that much...
    snapshots = [item.version for item in store.read_backward(stream) if isinstance(item, SnapshotRecord)]
    assert snapshots == [20, 10, 5]  # ...snapshots at once


def test_temporal_reads_by_version_and_by_instant(store: EventStore) -> None:
    service = counters(store)
    service.execute(CreateCounter("c-1", start=10), ctx())
    service.execute(Increment("c-1", by=1), ctx())
    service.execute(Increment("c-1", by=1), ctx())
    history, _ = service.reader.history("c-1", after=0, limit=10)

    assert service.reader.get("c-1", version=2).value == 11
    assert service.reader.get("c-1", as_of=datetime.fromisoformat(history[0].occurred_at)).value == 10
    with pytest.raises(CounterNotFoundError, match="did not exist"):
        service.reader.get("c-1", as_of=START)
    with pytest.raises(VersionNotFoundError):
        service.reader.get("c-1", version=9)


def test_history_pages_in_the_current_schema(store: EventStore) -> None:
    service = counters(store)
    service.execute(CreateCounter("c-1"), ctx())
    for _ in range(4):
        service.execute(Increment("c-1"), ctx())
    page, cursor = service.reader.history("c-1", after=0, limit=3)
    assert [(e.event_type, e.version) for e in page] == [("CounterCreated", 1), ("Incremented", 2), ("Incremented", 3)]
    assert cursor == 3
    page, cursor = service.reader.history("c-1", after=3, limit=3)
    assert ([e.version for e in page], cursor) == ([4, 5], None)


def test_a_counter_and_an_account_with_the_same_id_are_separate_streams(store: EventStore) -> None:
    counters(store).execute(CreateCounter("shared-1", start=3), ctx())
    accounts = account_service(store)
    opened = accounts.execute(OpenAccount("shared-1", "Ann", initial_balance=500), ctx())

    assert opened.created
    assert counters(store).reader.get("shared-1").value == 3
    assert accounts.reader.get("shared-1").balance == 500
    assert sorted(store.aggregate_ids("Counter")) == ["shared-1"]
    assert sorted(store.aggregate_ids("Account")) == ["shared-1"]


def test_a_state_projection_of_counters_is_only_a_declaration(store: EventStore) -> None:
    service = counters(store)
    for counter_id, start in (("c-1", 1), ("c-2", 2)):
        service.execute(CreateCounter(counter_id, start=start), ctx())
    service.execute(Increment("c-2", by=5), ctx())
    views = InMemoryStateViews[Counter]()
    projection = StateProjection(Repository(COUNTER, store, page_size=100), views)

    counts = rebuild({"counters": projection}, store, REGISTRY)

    assert counts == {"counters": 2}
    assert [(row.counter_id, row.value) for row in views.page(limit=10, cursor=None)[0]] == [("c-1", 1), ("c-2", 7)]
    newest = service.execute(Increment("c-1"), ctx())
    (record,) = store.read_forward(StreamId("Counter", "c-1"), after=1, limit=10)
    assert projection.apply(record)
    assert views.state("c-1") == newest.state
