"""The command cycle for any declared aggregate: load -> decide -> append (conditional, with the idempotency record
in the same write), retried on a lost race."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from ledger.domain.errors import DomainError
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.errors import (
    ConcurrencyConflictError,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    PreconditionFailedError,
)
from ledger.kernel.instants import epoch_seconds, not_before, to_iso_ms
from ledger.kernel.ports import EventStore
from ledger.kernel.reader import Reader
from ledger.kernel.records import EventRecord, IdempotencyRecord, JsonObject, SnapshotRecord
from ledger.kernel.repository import Loaded, Repository, StateCache
from ledger.kernel.retries import RetryPolicy, full_jitter

C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str  # the client's Idempotency-Key
    caller: str  # who sent it: keys are scoped per caller, so two callers' keys never collide
    fingerprint: str  # hash of the request (method, path, body)

    @property
    def scoped_key(self) -> str:
        return f"{self.caller}|{self.key}"


@dataclass(frozen=True)
class CommandContext:
    correlation_id: str
    causation_id: str
    idempotency: IdempotencyRequest | None = None
    expected_version: int | None = None  # If-Match


@dataclass(frozen=True)
class CommandOutcome(Generic[S]):
    state: S
    version: int
    created: bool
    idempotent_replay: bool = False  # True: a repeat, answered from the first attempt's idempotency record


@dataclass(frozen=True)
class ServiceSettings:
    snapshot_interval: int  # a snapshot every this many versions (and the page size of a load that reads back)
    max_attempts: int  # tries a command that does not commute takes when other writers keep winning the race
    idempotency_ttl: timedelta
    state_cache_size: int  # aggregates whose last state a process keeps to skip the load (0: off)
    # The time by which a command answers: no retry starts that would end later (kernel/retries.py); commuting
    # commands retry until it is spent. None: no limit in time, every command stops after max_attempts.
    retry_budget: timedelta | None = None

    @property
    def retries(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.retry_budget)


@dataclass(frozen=True)
class _Again(Generic[S]):
    """An attempt that must be taken again, and the state to decide on then."""

    lost_race: bool  # False: a refusal or a no-op decided on a state that may be stale: decide again on a load
    winner: Loaded[S] | None = None  # the state after the event that won the race, when the store returned it


@dataclass(frozen=True)
class _Pending(Generic[S]):
    """What one decision would write, and what it answers once written."""

    outcome: CommandOutcome[S]
    events: list[EventRecord]
    snapshot: SnapshotRecord | None
    idempotency: IdempotencyRecord | None


class CommandService(Generic[C, E, S]):
    def __init__(
        self,
        aggregate: Aggregate[C, E, S],
        store: EventStore,
        settings: ServiceSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        sleep: Callable[[float], None] = lambda seconds: None,  # the deployed service really pauses (bootstrap)
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[float], float] = full_jitter,
    ) -> None:
        self.aggregate = aggregate
        self.store = store
        self.settings = settings
        self.retries = settings.retries
        self.clock = clock
        self.new_id = new_id
        self.sleep = sleep
        self.monotonic = monotonic
        self.jitter = jitter
        self.repository = Repository(aggregate, store, page_size=settings.snapshot_interval)
        self.reader = Reader(self.repository)
        self.cache = StateCache[S](settings.state_cache_size)

    # --- commands ----------------------------------------------------------------------------------------------

    def execute(self, command: C, context: CommandContext) -> CommandOutcome[S]:
        """Run `command`: decide on the state this process has cached, else on a fresh load, and append.

        When the append loses the race, the store returns the event that won it, with the state after it: right
        after the refusal that is most likely the newest state, so the command is decided again on it at once,
        without a read. When that try loses too, others are writing faster than that: it pauses (jittered) and
        decides on a fresh load. The retry policy (kernel/retries.py) says when to give up: after `max_attempts`
        tries or when the retry budget would be passed, or, for a command the aggregate declares commuting, only
        then. A refusal or a no-op decided on a state that was not loaded for this command (cached, or the winner's)
        is decided again on a fresh load before it is answered. An idempotent repeat answers the first outcome."""
        started = self.monotonic()
        aggregate_id = self.aggregate.id_of(command)
        commutes = self.aggregate.commutes(command)
        base = self.cache.get(aggregate_id)  # a state to decide on without reading (None: load)
        on_winner = False  # whether `base` is the state of the event that won the last race
        lost, longest = 0, 0.0
        while True:
            began = self.monotonic()
            loaded = self.repository.load(aggregate_id) if base is None else base
            result = self._attempt(loaded, command, context, fresh=base is None)
            if isinstance(result, CommandOutcome):
                return result
            longest = max(longest, self.monotonic() - began)
            if not result.lost_race:  # a refusal on a state that may be stale: decide again on a load, at once
                base, on_winner = None, False
                continue
            lost += 1
            elapsed = self.monotonic() - started
            pause = self.retries.pause(lost, elapsed, commutes=commutes, longest_try=longest, jitter=self.jitter)
            if pause is None:
                break
            if result.winner is not None and not on_winner:
                base, on_winner = result.winner, True
                continue
            base, on_winner = None, False
            self.sleep(pause)
        raise ConcurrencyConflictError(
            f"{self.aggregate.type} {aggregate_id!r} kept changing under this command: it lost the race {lost} times "
            f"in {self.monotonic() - started:.1f} s. Send it again."
        )

    def _attempt(
        self, loaded: Loaded[S], command: C, context: CommandContext, *, fresh: bool
    ) -> CommandOutcome[S] | _Again[S]:
        """The outcome of deciding on `loaded` and appending, or why the decision must be taken again: the append
        lost a race (with the winner's state, when the store returned it), or a refusal or a no-op came from a state
        not loaded for this command (cached, or a race's winner), which may be stale."""
        aggregate_id = self.aggregate.id_of(command)
        try:
            events = self._decide(loaded, command, context)
        except (DomainError, PreconditionFailedError):
            if not fresh:
                return self._again_on_a_load(aggregate_id)
            earlier = self._earlier_outcome(context)
            if earlier is None:
                raise
            return earlier
        if not events:  # nothing to record (the aggregate already is as asked): no idempotency record either, so
            # a repeat decides again, to the same nothing. No append means no condition to catch a stale state (a
            # release finding nothing another process reserved): a no-op is answered from a fresh load only.
            return self._unchanged(loaded, command) if fresh else self._again_on_a_load(aggregate_id)
        pending = self._pending(loaded, command, events, context)
        try:
            self.store.append(pending.events, snapshot=pending.snapshot, idempotency=pending.idempotency)
        except IdempotencyKeyInUseError:
            earlier = self._earlier_outcome(context)
            return _Again(lost_race=True) if earlier is None else earlier
        except ConcurrencyConflictError as conflict:
            winner = None if conflict.taken is None else self.repository.state_after(conflict.taken)
            if winner is None:
                self.cache.forget(aggregate_id)
            else:
                self.cache.put(aggregate_id, winner)
            return _Again(lost_race=True, winner=winner)
        written = Loaded(pending.outcome.state, pending.outcome.version, pending.events[-1].occurred_at)
        self.cache.put(aggregate_id, written)
        return pending.outcome

    def _again_on_a_load(self, aggregate_id: str) -> _Again[S]:
        self.cache.forget(aggregate_id)
        return _Again(lost_race=False)

    def _unchanged(self, loaded: Loaded[S], command: C) -> CommandOutcome[S]:
        if loaded.state is None:
            raise ValueError(f"{self.aggregate.type}.decide created nothing for {type(command).__name__}")
        return CommandOutcome(loaded.state, loaded.version, created=False)

    def _decide(self, loaded: Loaded[S], command: C, context: CommandContext) -> Sequence[E]:
        """The events of `command`, after the checks every aggregate shares: If-Match first (a client that names a
        version it expects learns that it is stale before anything else), then existence."""
        aggregate_id = self.aggregate.id_of(command)
        expected = context.expected_version
        if expected is not None and loaded.state is not None and loaded.version != expected:
            raise PreconditionFailedError(
                f"The {self.aggregate.type.lower()} is at version {loaded.version}, not {expected} as If-Match "
                "requires."
            )
        if self.aggregate.creates(command):
            if loaded.state is not None:
                raise self.aggregate.already_exists_error(aggregate_id)
        elif loaded.state is None and not self.aggregate.may_create(command):
            raise self.aggregate.not_found_error(aggregate_id)
        return self.aggregate.decide(loaded.state, command)

    def _pending(self, loaded: Loaded[S], command: C, events: Sequence[E], context: CommandContext) -> _Pending[S]:
        occurred_at = to_iso_ms(not_before(self.clock(), loaded.last_occurred_at))
        metadata = {"correlation_id": context.correlation_id, "causation_id": context.causation_id}
        if context.idempotency is not None:
            metadata["idempotency_key"] = context.idempotency.key
        aggregate = self.aggregate
        aggregate_id = aggregate.id_of(command)
        state, version, records = loaded.state, loaded.version, []
        encoded: JsonObject = {}
        for event in events:
            version += 1
            event_type, schema_version, data = aggregate.events.encode(event)
            state = aggregate.evolve(state, event, version, occurred_at)
            encoded = aggregate.state.encode(state)
            records.append(
                EventRecord(
                    aggregate_type=aggregate.type,
                    aggregate_id=aggregate_id,
                    version=version,
                    event_id=self.new_id(),
                    event_type=event_type,
                    schema_version=schema_version,
                    occurred_at=occurred_at,
                    data=data,
                    metadata=metadata,
                    state=encoded,
                    state_schema_version=aggregate.state.schema_version,
                )
            )
        if state is None:  # unreachable: evolve returned a state for each event
            raise ValueError(f"{aggregate.type}.evolve returned no state")
        outcome = CommandOutcome(state, version, created=loaded.state is None)
        snapshot = None
        if self._snapshot_due(loaded, version, len(records)):
            snapshot = SnapshotRecord(
                aggregate.type, aggregate_id, version, aggregate.state.schema_version, encoded, occurred_at
            )
        return _Pending(outcome, records, snapshot, self._idempotency_record(outcome, aggregate_id, encoded, context))

    def _snapshot_due(self, loaded: Loaded[S], version: int, appended: int) -> bool:
        """Every `snapshot_interval` versions, and at once when the load had to fold that many events."""
        interval = self.settings.snapshot_interval
        return version // interval > (version - appended) // interval or loaded.events_folded >= interval

    def _idempotency_record(
        self, outcome: CommandOutcome[S], aggregate_id: str, encoded_state: JsonObject, context: CommandContext
    ) -> IdempotencyRecord | None:
        if context.idempotency is None:
            return None
        now = self.clock()
        return IdempotencyRecord(
            key=context.idempotency.scoped_key,
            fingerprint=context.idempotency.fingerprint,
            aggregate_type=self.aggregate.type,
            aggregate_id=aggregate_id,
            version=outcome.version,
            created=outcome.created,
            state=encoded_state,
            state_schema_version=self.aggregate.state.schema_version,
            recorded_at=to_iso_ms(now),
            expires_at=epoch_seconds(now, self.settings.idempotency_ttl),
        )

    def _earlier_outcome(self, context: CommandContext) -> CommandOutcome[S] | None:
        """The outcome recorded for this request's idempotency key, if the key has a live record."""
        if context.idempotency is None:
            return None
        record = self.store.idempotency_record(context.idempotency.scoped_key, now=epoch_seconds(self.clock()))
        if record is None:
            return None
        if record.fingerprint != context.idempotency.fingerprint or record.aggregate_type != self.aggregate.type:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was already used for a different request; use a new key for a new request."
            )
        state = self.aggregate.state.decode(record.state_schema_version, record.state)
        if state is None:
            state = self.reader.get(record.aggregate_id, version=record.version)
        return CommandOutcome(state, record.version, created=record.created, idempotent_replay=True)
