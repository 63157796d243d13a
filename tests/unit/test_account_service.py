"""The account service over the in-memory store: retries, idempotency, snapshots, upcasting, temporal reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import (
    Account,
    AccountAlreadyExistsError,
    AccountNotFoundError,
    CloseAccount,
    Command,
    DepositMoney,
    InsufficientFundsError,
    OpenAccount,
    WithdrawMoney,
)
from ledger.kernel.errors import (
    ConcurrencyConflictError,
    IdempotencyKeyReusedError,
    PreconditionFailedError,
    VersionNotFoundError,
)
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem
from ledger.kernel.service import CommandContext, CommandOutcome, CommandService, IdempotencyRequest
from tests.ledger_fixtures import AccountService, account_service, service_settings

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ACC_1 = StreamId("Account", "acc-1")


class Clock:
    """Advances one second per reading, so every event gets its own instant."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def service(store: InMemoryEventStore | None = None, **settings: int) -> AccountService:
    return account_service(store or InMemoryEventStore(), clock=Clock(), **settings)


def ctx(key: str | None = None, body: str = "{}", expected_version: int | None = None) -> CommandContext:
    idempotency = IdempotencyRequest(key, "caller", fingerprint=body) if key else None
    return CommandContext("corr-1", "req-1", idempotency=idempotency, expected_version=expected_version)


def run(svc: AccountService, *commands: Command) -> CommandOutcome[Account]:
    outcome = None
    for command in commands:
        outcome = svc.execute(command, ctx())
    assert outcome is not None
    return outcome


def events(svc: AccountService, account: str = "acc-1") -> list[EventRecord]:
    return svc.reader.history(account, after=0, limit=1000)[0]


def test_the_seed_scenario_gives_130_dollars_by_replay() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann", "USD", 10_000), DepositMoney("acc-1", 5_000), WithdrawMoney("acc-1", 2_000))
    assert svc.reader.get("acc-1").balance == 13_000
    assert [e.event_type for e in events(svc)] == ["AccountCreated", "MoneyDeposited", "MoneyWithdrawn"]


def test_each_event_carries_ids_schema_version_and_metadata() -> None:
    svc = service()
    svc.execute(OpenAccount("acc-1", "Ann"), ctx(key="k-1"))
    (event,) = events(svc)
    assert event.version == 1
    assert event.schema_version == 2
    assert len(event.event_id) == 36
    assert event.occurred_at.endswith("Z")
    assert len(event.occurred_at) == len("2026-11-26T08:00:01.000Z")
    assert dict(event.metadata) == {"correlation_id": "corr-1", "causation_id": "req-1", "idempotency_key": "k-1"}


# --- idempotency ---------------------------------------------------------------------------------------------


def test_a_repeat_with_the_same_key_returns_the_first_outcome_and_appends_nothing() -> None:
    store = InMemoryEventStore()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=10_000))
    first = svc.execute(WithdrawMoney("acc-1", 10_000), ctx(key="k-1", body="b"))
    appends = store.appends

    repeat = svc.execute(WithdrawMoney("acc-1", 10_000), ctx(key="k-1", body="b"))

    assert repeat.state == first.state
    assert repeat.idempotent_replay
    assert not first.idempotent_replay
    assert store.appends == appends
    assert len(events(svc)) == 2


def test_the_same_key_with_another_body_is_refused_and_writes_nothing() -> None:
    store = InMemoryEventStore()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=10_000))
    svc.execute(DepositMoney("acc-1", 1), ctx(key="k-1", body="one cent"))
    appends = store.appends
    with pytest.raises(IdempotencyKeyReusedError):
        svc.execute(DepositMoney("acc-1", 2), ctx(key="k-1", body="two cents"))
    assert store.appends == appends


def test_keys_are_scoped_per_caller() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann"))
    context = ctx(key="k-1", body="b")
    svc.execute(DepositMoney("acc-1", 1), context)
    other_caller = replace(context, idempotency=IdempotencyRequest("k-1", "someone-else", "b"))
    assert not svc.execute(DepositMoney("acc-1", 1), other_caller).idempotent_replay
    assert svc.reader.get("acc-1").balance == 2


class CrashAfterAppend(InMemoryEventStore):
    """The write lands, then the function dies (a timeout) before it can answer."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_next = False

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        super().append(events, snapshot=snapshot, idempotency=idempotency)
        if self.crash_next:
            self.crash_next = False
            raise TimeoutError("Task timed out after 10.00 seconds")


def test_a_repeat_after_a_crash_that_followed_the_append_returns_the_recorded_outcome() -> None:
    store = CrashAfterAppend()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=100))
    store.crash_next = True
    with pytest.raises(TimeoutError):
        svc.execute(WithdrawMoney("acc-1", 100), ctx(key="k-1", body="b"))

    repeat = svc.execute(WithdrawMoney("acc-1", 100), ctx(key="k-1", body="b"))

    assert repeat.idempotent_replay
    assert repeat.state.balance == 0
    assert repeat.state.version == 2
    assert len(events(svc)) == 2


def test_a_repeat_is_answered_even_when_the_command_would_now_be_refused() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=100))
    svc.execute(WithdrawMoney("acc-1", 100), ctx(key="k-1", body="b"))
    assert svc.execute(WithdrawMoney("acc-1", 100), ctx(key="k-1", body="b")).state.balance == 0


def test_a_refused_command_records_nothing_so_its_key_can_succeed_later() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=100))
    with pytest.raises(InsufficientFundsError):
        svc.execute(WithdrawMoney("acc-1", 500), ctx(key="k-1", body="b"))
    run(svc, DepositMoney("acc-1", 400))
    assert svc.execute(WithdrawMoney("acc-1", 500), ctx(key="k-1", body="b")).state.balance == 0


def test_concurrent_repeats_of_one_key_append_once_and_agree() -> None:
    store = InMemoryEventStore()
    svc = service(store, max_attempts=20)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=0))
    outcomes: list[CommandOutcome[Account]] = []
    barrier = threading.Barrier(10)

    def deposit() -> None:
        barrier.wait()
        outcomes.append(svc.execute(DepositMoney("acc-1", 700), ctx(key="k-1", body="b")))

    threads = [threading.Thread(target=deposit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 10
    assert len({o.state for o in outcomes}) == 1
    assert svc.reader.get("acc-1").balance == 700
    assert len(events(svc)) == 2


# --- concurrency ---------------------------------------------------------------------------------------------


class RacingWriter(InMemoryEventStore):
    """Before each of the service's appends, another writer takes the next version first (`races` times)."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        if self.races and events and events[0].event_type == "MoneyDeposited":
            self.races -= 1
            rival = replace(events[0], event_id=f"rival-{self.races}", data={**events[0].data, "amount": 1})
            super().append([replace(rival, state=None, state_schema_version=None)])  # a writer that stores no state
        super().append(events, snapshot=snapshot, idempotency=idempotency)


def test_a_lost_race_is_retried_on_fresh_state() -> None:
    store = RacingWriter(races=2)
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann"))
    outcome = svc.execute(DepositMoney("acc-1", 100), ctx())
    assert outcome.state.version == 4
    assert outcome.state.balance == 102
    assert [e.version for e in events(svc)] == [1, 2, 3, 4]


def test_a_command_that_keeps_losing_gives_up_with_a_conflict() -> None:
    backoffs: list[int] = []
    store = RacingWriter(races=10)
    svc = CommandService(ACCOUNT, store, service_settings(max_attempts=3), clock=Clock(), backoff=backoffs.append)
    run(svc, OpenAccount("acc-1", "Ann"))
    with pytest.raises(ConcurrencyConflictError, match="tried 3 times"):
        svc.execute(DepositMoney("acc-1", 100), ctx())
    assert backoffs == [1, 2]  # between the three attempts on fresh state (the first, on the cached one, is free)
    assert [e.data["amount"] for e in events(svc)[1:]] == [1, 1, 1, 1]  # only the rivals' deposits landed


def test_if_match_on_another_version_is_refused_and_writes_nothing() -> None:
    store = InMemoryEventStore()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann"), DepositMoney("acc-1", 5))
    appends = store.appends
    with pytest.raises(PreconditionFailedError, match="version 2, not 1"):
        svc.execute(DepositMoney("acc-1", 5), ctx(expected_version=1))
    assert store.appends == appends
    assert svc.execute(DepositMoney("acc-1", 5), ctx(expected_version=2)).state.version == 3


# --- snapshots -----------------------------------------------------------------------------------------------


class CountingReads(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.items_read = 0

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        for item in super().read_backward(stream, to_version=to_version, page_size=page_size, first_page=first_page):
            self.items_read += 1
            yield item


def test_a_load_reads_only_the_newest_event_which_carries_the_state() -> None:
    store = CountingReads()
    svc = service(store, snapshot_interval=10)
    run(svc, OpenAccount("acc-1", "Ann"), *[DepositMoney("acc-1", 1)] * 94)

    store.items_read = 0
    state = svc.reader.get("acc-1")

    assert (state.version, state.balance) == (95, 94)
    assert store.items_read == 1
    assert svc.reader.get("acc-1", version=37).balance == 36
    assert store.items_read == 2


def test_snapshots_every_interval_bound_a_load_when_events_carry_no_usable_state() -> None:
    store = CountingReads()
    svc = service(store, snapshot_interval=10)
    run(svc, OpenAccount("acc-1", "Ann"), *[DepositMoney("acc-1", 1)] * 94)
    assert sorted(store._snapshots[ACC_1]) == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    for index, event in enumerate(store._events[ACC_1]):  # e.g. the state's shape changed since
        store._events[ACC_1][index] = replace(event, state={"shape": "old"})

    store.items_read = 0
    assert svc.reader.get("acc-1").balance == 94
    assert store.items_read == 6  # events 95..91 and the snapshot of version 90


def test_a_snapshot_that_no_longer_decodes_is_ignored_and_replaced() -> None:
    store = CountingReads()
    svc = service(store, snapshot_interval=10)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=7), *[DepositMoney("acc-1", 1)] * 24)
    for version, snapshot in list(store._snapshots[ACC_1].items()):
        store._snapshots[ACC_1][version] = replace(snapshot, state={"balance": "garbage"})

    assert svc.reader.get("acc-1").balance == 31  # rebuilt from all 25 events
    run(svc, DepositMoney("acc-1", 1))  # heals: snapshots the new version at once
    store.items_read = 0
    assert svc.reader.get("acc-1").balance == 32
    assert store.items_read == 1


def test_a_snapshot_of_an_older_state_schema_is_ignored() -> None:
    store = InMemoryEventStore()
    svc = service(store, snapshot_interval=5)
    run(svc, OpenAccount("acc-1", "Ann"), *[DepositMoney("acc-1", 2)] * 5)
    for version, snapshot in list(store._snapshots[ACC_1].items()):
        store._snapshots[ACC_1][version] = replace(snapshot, schema_version=0, state={**snapshot.state, "balance": 1})
    for index, event in enumerate(store._events[ACC_1]):
        store._events[ACC_1][index] = replace(event, state=None, state_schema_version=None)
    assert svc.reader.get("acc-1").balance == 10


# --- schema evolution ----------------------------------------------------------------------------------------


def v1_account_created(account: str = "acc-1") -> EventRecord:
    return EventRecord(
        "Account",
        account,
        1,
        "00000000-0000-4000-8000-000000000001",
        "AccountCreated",
        1,
        "2020-01-01T00:00:00.000Z",
        {"account_id": account, "owner": "Old Timer", "initial_deposit": 2_500},
        {"correlation_id": "legacy", "causation_id": "legacy"},
    )


def test_an_account_created_v1_is_upcast_on_read() -> None:
    store = InMemoryEventStore()
    store.put_raw_event(v1_account_created())
    svc = service(store)
    run(svc, DepositMoney("acc-1", 500))
    state = svc.reader.get("acc-1")
    assert (state.currency, state.balance, state.owner) == ("USD", 3_000, "Old Timer")
    first = events(svc)[0]
    assert first.schema_version == 2
    assert dict(first.data) == {
        "account_id": "acc-1",
        "owner": "Old Timer",
        "currency": "USD",
        "initial_balance": 2_500,
    }


# --- temporal queries and history ----------------------------------------------------------------------------


def test_state_at_a_version_and_at_an_instant() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=10_000), DepositMoney("acc-1", 5_000))
    run(svc, WithdrawMoney("acc-1", 2_000))
    history = events(svc)

    assert svc.reader.get("acc-1", version=2).balance == 15_000
    just_after_deposit = datetime.fromisoformat(history[1].occurred_at) + timedelta(milliseconds=500)
    assert svc.reader.get("acc-1", as_of=just_after_deposit).version == 2
    assert svc.reader.get("acc-1", as_of=datetime.fromisoformat(history[0].occurred_at)).version == 1
    with pytest.raises(AccountNotFoundError, match="did not exist"):
        svc.reader.get("acc-1", as_of=START)
    with pytest.raises(VersionNotFoundError):
        svc.reader.get("acc-1", version=4)


def test_occurred_at_never_goes_backwards_when_a_writer_clock_lags() -> None:
    store = InMemoryEventStore()
    run(service(store), OpenAccount("acc-1", "Ann"))
    lagging = account_service(store, clock=lambda: START - timedelta(days=1))
    lagging.execute(DepositMoney("acc-1", 1), ctx())
    first, second = events(lagging)
    assert second.occurred_at == first.occurred_at


def test_history_pages_with_a_cursor() -> None:
    svc = service()
    run(svc, OpenAccount("acc-1", "Ann"), *[DepositMoney("acc-1", 1)] * 4)
    page, cursor = svc.reader.history("acc-1", after=0, limit=2)
    assert [e.version for e in page] == [1, 2]
    assert cursor == 2
    page, cursor = svc.reader.history("acc-1", after=4, limit=2)
    assert [e.version for e in page] == [5]
    assert cursor is None
    assert svc.reader.history("acc-1", after=5, limit=2) == ([], None)
    with pytest.raises(AccountNotFoundError):
        svc.reader.history("nobody", after=0, limit=2)


def test_an_id_another_aggregate_type_uses_is_a_separate_stream() -> None:
    store = InMemoryEventStore()
    store.put_raw_event(replace(v1_account_created("x-1"), aggregate_type="Order", event_type="OrderPlaced"))
    svc = service(store)
    with pytest.raises(AccountNotFoundError):
        svc.execute(CloseAccount("x-1"), ctx())
    with pytest.raises(AccountNotFoundError):
        svc.reader.get("x-1")
    with pytest.raises(AccountNotFoundError):
        svc.reader.history("x-1", after=0, limit=10)
    assert svc.execute(OpenAccount("x-1", "Ann"), ctx()).created
    assert [e.event_type for e in events(svc, "x-1")] == ["AccountCreated"]
    assert [e.event_type for e in store.read_forward(StreamId("Order", "x-1"), after=0, limit=10)] == ["OrderPlaced"]
    with pytest.raises(AccountAlreadyExistsError):
        svc.execute(OpenAccount("x-1", "Ann"), ctx())


# --- the per-process state cache -----------------------------------------------------------------------------


def test_a_warm_process_decides_on_its_cached_state_without_reading() -> None:
    store = CountingReads()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann"))
    store.items_read = 0
    run(svc, DepositMoney("acc-1", 5), DepositMoney("acc-1", 5))
    assert store.items_read == 0
    assert svc.reader.get("acc-1").balance == 10


def test_a_stale_cache_never_writes_on_a_wrong_base() -> None:
    store = InMemoryEventStore()
    this_process, other_process = service(store), service(store)
    run(this_process, OpenAccount("acc-1", "Ann", initial_balance=100))
    run(other_process, WithdrawMoney("acc-1", 100))  # this_process's cache still says 100

    with pytest.raises(InsufficientFundsError):  # decided again on a fresh load, not on the cached 100
        this_process.execute(WithdrawMoney("acc-1", 60), ctx())
    run(other_process, DepositMoney("acc-1", 50))
    assert this_process.execute(DepositMoney("acc-1", 1), ctx()).state.balance == 51  # the conflict reloaded
    assert [e.version for e in events(this_process)] == [1, 2, 3, 4]


def test_the_cache_can_be_turned_off() -> None:
    store = CountingReads()
    svc = service(store, state_cache_size=0)
    run(svc, OpenAccount("acc-1", "Ann"))
    store.items_read = 0
    run(svc, DepositMoney("acc-1", 5))
    assert store.items_read == 1
