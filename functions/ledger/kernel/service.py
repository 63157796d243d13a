"""The command cycle for any declared aggregate: load -> decide -> append (conditional, with the idempotency record
in the same write), retried on a lost race."""

from __future__ import annotations

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
    max_attempts: int  # fresh loads a command may take when other writers keep winning the race
    idempotency_ttl: timedelta
    state_cache_size: int  # aggregates whose last state a process keeps to skip the load (0: off)


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
        backoff: Callable[[int], None] = lambda attempt: None,
    ) -> None:
        self.aggregate = aggregate
        self.store = store
        self.settings = settings
        self.clock = clock
        self.new_id = new_id
        self.backoff = backoff
        self.repository = Repository(aggregate, store, page_size=settings.snapshot_interval)
        self.reader = Reader(self.repository)
        self.cache = StateCache[S](settings.state_cache_size)

    # --- commands ----------------------------------------------------------------------------------------------

    def execute(self, command: C, context: CommandContext) -> CommandOutcome[S]:
        """Run `command`: decide on the cached state if this process has one, else (or when that state turns out
        stale) on fresh loads, up to `max_attempts` of them. An idempotent repeat answers the first outcome."""
        aggregate_id = self.aggregate.id_of(command)
        cached = self.cache.get(aggregate_id)
        if cached is not None:
            outcome = self._attempt(cached, command, context, fresh=False)
            if outcome is not None:
                return outcome
            self.cache.forget(aggregate_id)
        for attempt in range(1, self.settings.max_attempts + 1):
            if attempt > 1:
                self.backoff(attempt - 1)
            outcome = self._attempt(self.repository.load(aggregate_id), command, context, fresh=True)
            if outcome is not None:
                return outcome
        raise ConcurrencyConflictError(
            f"{self.aggregate.type} {aggregate_id!r} kept changing under this command; it was tried "
            f"{self.settings.max_attempts} times. Send it again."
        )

    def _attempt(
        self, loaded: Loaded[S], command: C, context: CommandContext, *, fresh: bool
    ) -> CommandOutcome[S] | None:
        """The outcome of deciding on `loaded` and appending; None when the decision must be taken again on a fresh
        load (the append lost a race, or a refusal or a no-op came from a cached state that may be stale)."""
        try:
            events = self._decide(loaded, command, context)
        except (DomainError, PreconditionFailedError):
            if not fresh:
                return None
            earlier = self._earlier_outcome(context)
            if earlier is None:
                raise
            return earlier
        if not events:  # nothing to record (the aggregate already is as asked): no idempotency record either, so
            # a repeat decides again, to the same nothing. No append means no condition to catch a stale cached
            # state (a release finding nothing another process reserved): a no-op is answered from a fresh load only.
            return self._unchanged(loaded, command) if fresh else None
        pending = self._pending(loaded, command, events, context)
        try:
            self.store.append(pending.events, snapshot=pending.snapshot, idempotency=pending.idempotency)
        except IdempotencyKeyInUseError:
            return self._earlier_outcome(context)
        except ConcurrencyConflictError:
            return None
        written = Loaded(pending.outcome.state, pending.outcome.version, pending.events[-1].occurred_at)
        self.cache.put(self.aggregate.id_of(command), written)
        return pending.outcome

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
