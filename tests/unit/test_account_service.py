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
    """Before each of the service's appends of money moved, another writer takes the next version first (`races`
    times): with a movement of one cent of the same kind, storing no state (the service has to load), or, with
    `same_move`, with the very movement the service wanted to append, state included (the service can decide again
    on it without a read). Each load takes `load_seconds` on `time`, if given; `loads` counts them."""

    def __init__(
        self, races: int, *, same_move: bool = False, time: FakeTime | None = None, load_seconds: float = 0.0
    ) -> None:
        super().__init__()
        self.races = races
        self.same_move = same_move
        self.time = time
        self.load_seconds = load_seconds
        self.loads = 0

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        self.loads += 1
        if self.time is not None:
            self.time.now += self.load_seconds
        return super().read_backward(stream, to_version=to_version, page_size=page_size, first_page=first_page)

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        if self.races and events and events[0].event_type in ("MoneyDeposited", "MoneyWithdrawn"):
            self.races -= 1
            rival = replace(events[0], event_id=f"rival-{self.races}")
            if not self.same_move:
                rival = replace(rival, data={**rival.data, "amount": 1}, state=None, state_schema_version=None)
            super().append([rival])
        super().append(events, snapshot=snapshot, idempotency=idempotency)


class FakeTime:
    """A monotonic clock that only moves when the service pauses (or a store says a call took time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def timed_service(store: InMemoryEventStore, time: FakeTime, **settings: object) -> AccountService:
    """The service on `time`, pausing the longest its policy allows (no randomness)."""
    return CommandService(
        ACCOUNT,
        store,
        service_settings(**settings),
        clock=Clock(),
        sleep=time.sleep,
        monotonic=time.monotonic,
        jitter=lambda cap: cap,
    )


def test_a_lost_race_is_retried_on_fresh_state() -> None:
    store = RacingWriter(races=2)
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann"))
    outcome = svc.execute(DepositMoney("acc-1", 100), ctx())
    assert outcome.state.version == 4
    assert outcome.state.balance == 102
    assert [e.version for e in events(svc)] == [1, 2, 3, 4]


def test_a_lost_race_is_tried_again_at_once_on_the_winners_state_without_a_read() -> None:
    # GIVEN a rival that takes the version this deposit wants, with the state after it
    time = FakeTime()
    store = RacingWriter(races=1, same_move=True)
    svc = timed_service(store, time)
    run(svc, OpenAccount("acc-1", "Ann"))
    loads = store.loads
    # WHEN the deposit is sent (decided first on this process's cached state)
    outcome = svc.execute(DepositMoney("acc-1", 100), ctx())
    # THEN it was decided again on the winner's state, which the store returned with the refusal: no load, no pause
    assert (store.loads, time.pauses) == (loads, [])
    assert (outcome.version, outcome.state.balance) == (3, 200)
    assert [e.data["amount"] for e in events(svc)[1:]] == [100, 100]


def test_a_second_lost_race_in_a_row_pauses_and_loads_the_newest_state() -> None:
    # GIVEN rivals that win three races in a row, each with the state after it
    time = FakeTime()
    store = RacingWriter(races=3, same_move=True)
    svc = timed_service(store, time)
    run(svc, OpenAccount("acc-1", "Ann"))
    loads = store.loads
    # WHEN the deposit is sent
    outcome = svc.execute(DepositMoney("acc-1", 100), ctx())
    # THEN: cached state, lost; the winner's state at once, lost; a pause and a load, lost; the winner's state, won
    assert (store.loads - loads, time.pauses) == (1, [0.04])
    assert (outcome.version, outcome.state.balance) == (5, 400)


def test_a_refusal_decided_on_a_winners_state_is_decided_again_on_a_fresh_load() -> None:
    # GIVEN an account holding 100, and, racing a withdrawal of 100, a rival that withdraws the 100 (returned with
    # the refusal) and then a deposit of 100 (the stream's newest event, which the refusal does not tell)
    class OvertakenTwice(InMemoryEventStore):
        def append(
            self,
            events: Sequence[EventRecord],
            *,
            snapshot: SnapshotRecord | None = None,
            idempotency: IdempotencyRecord | None = None,
        ) -> None:
            if events[0].event_type == "MoneyWithdrawn" and events[0].version == 2:
                rival = replace(events[0], event_id="rival")
                refill = replace(
                    events[0],
                    version=3,
                    event_id="refill",
                    event_type="MoneyDeposited",
                    data={**events[0].data, "amount": 100},
                    state=None,
                    state_schema_version=None,
                )
                super().append([rival, refill])
            super().append(events, snapshot=snapshot, idempotency=idempotency)

    store = OvertakenTwice()
    svc = service(store)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=100))
    # WHEN the withdrawal loses the race, it is decided on the winner's state (0): refused, but that state is stale
    outcome = svc.execute(WithdrawMoney("acc-1", 100), ctx())
    # THEN the refusal was decided again on a fresh load (100, after the refill), where the withdrawal is paid
    assert (outcome.version, outcome.state.balance) == (4, 0)
    assert [e.event_type for e in events(svc)] == [
        "AccountCreated",
        "MoneyWithdrawn",
        "MoneyDeposited",
        "MoneyWithdrawn",
    ]


def test_a_withdrawal_that_keeps_losing_gives_up_with_a_conflict_after_max_attempts() -> None:
    # GIVEN an account with room for every withdrawal, and rivals that win every race
    time = FakeTime()
    store = RacingWriter(races=10)
    svc = timed_service(store, time, max_attempts=3)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=1_000))
    # WHEN a withdrawal (which does not commute) keeps losing
    with pytest.raises(ConcurrencyConflictError, match="lost the race 3 times"):
        svc.execute(WithdrawMoney("acc-1", 100), ctx())
    # THEN it paused between its three tries, then gave up
    assert time.pauses == pytest.approx([0.02, 0.04])
    assert [e.data["amount"] for e in events(svc)[1:]] == [1, 1, 1]  # only the rivals' withdrawals landed


def test_a_deposit_that_loses_more_races_than_max_attempts_still_lands() -> None:
    # GIVEN 20 rival deposits that each win the race against a try of this one
    time = FakeTime()
    store = RacingWriter(races=20)
    svc = timed_service(store, time, max_attempts=3)
    run(svc, OpenAccount("acc-1", "Ann"))
    # WHEN one deposit is sent, THEN it lands after them all, with no conflict for the client
    outcome = svc.execute(DepositMoney("acc-1", 100), ctx())
    assert (outcome.version, outcome.state.balance) == (22, 120)
    assert [e.version for e in events(svc)] == list(range(1, 23))
    assert len(time.pauses) == 20  # a pause after each lost race
    assert time.now - 100.0 < 5.0  # well within the budget


def test_a_deposit_that_never_wins_gives_up_when_the_retry_budget_is_spent() -> None:
    # GIVEN rivals that win every race, and loads that take 50 ms each
    time = FakeTime()
    store = RacingWriter(races=10_000, time=time, load_seconds=0.05)
    svc = timed_service(store, time, retry_budget=timedelta(seconds=2))
    run(svc, OpenAccount("acc-1", "Ann"))
    started = time.now
    # WHEN a deposit keeps losing
    with pytest.raises(ConcurrencyConflictError, match="Send it again"):
        svc.execute(DepositMoney("acc-1", 100), ctx())
    # THEN it tried far more than max_attempts times, and no retry started past its budget
    assert len(time.pauses) + 1 > 2 * service_settings().max_attempts
    assert time.now - started <= 2.0 + 0.05  # the last load may start at the budget's end
    assert time.now - started + 0.2 > 2.0  # and it gave up only when the next pause would pass it


def test_a_slow_store_ends_retries_before_max_attempts_so_that_the_command_answers_within_its_budget() -> None:
    # GIVEN loads that take 1.5 s, a budget of 2 s, and rivals that win every race
    time = FakeTime()
    store = RacingWriter(races=10, time=time, load_seconds=1.5)
    svc = timed_service(store, time, max_attempts=5, retry_budget=timedelta(seconds=2))
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=1_000))
    started = time.now
    # WHEN a withdrawal loses on its cached state, then on a load that took 1.5 s
    with pytest.raises(ConcurrencyConflictError, match="lost the race 2 times"):
        svc.execute(WithdrawMoney("acc-1", 100), ctx())
    # THEN it gives up after 2 of its 5 tries: a third, as slow, would end past the budget; it answers within it
    assert time.now - started == pytest.approx(0.02 + 1.5)


def test_a_withdrawal_that_lost_races_is_decided_on_the_balance_after_them() -> None:
    # GIVEN 102 cents, and three rival withdrawals of 1 cent that each win a race
    store = RacingWriter(races=3)
    svc = timed_service(store, FakeTime(), max_attempts=10)
    run(svc, OpenAccount("acc-1", "Ann", initial_balance=102))
    # WHEN 100 cents are withdrawn, THEN after the third loss the balance is 99: refused, never overdrawn
    with pytest.raises(InsufficientFundsError, match="the balance is"):
        svc.execute(WithdrawMoney("acc-1", 100), ctx())
    assert svc.reader.get("acc-1").balance == 99
    assert [e.data["amount"] for e in events(svc)[1:]] == [1, 1, 1]


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
