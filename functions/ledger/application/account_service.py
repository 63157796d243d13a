"""Account use cases: load (snapshot + tail) -> decide -> append, and the temporal reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledger.application.account_codec import ACCOUNT_EVENTS, STATE_SCHEMA_VERSION, decode_state, encode_state
from ledger.application.account_repository import AccountRepository, Loaded, StateCache
from ledger.application.errors import (
    ConcurrencyConflictError,
    ForeignStreamError,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    PreconditionFailedError,
    VersionNotFoundError,
)
from ledger.application.instants import epoch_seconds, not_before, to_iso_ms
from ledger.application.ports import EventStore
from ledger.application.records import EventRecord, IdempotencyRecord, SnapshotRecord
from ledger.domain.accounts import AGGREGATE_TYPE, Account, Command, Event, OpenAccount, decide, evolve
from ledger.domain.errors import AccountAlreadyExistsError, AccountNotFoundError, DomainError


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
class CommandOutcome:
    account: Account
    created: bool
    replayed: bool = False  # True: an idempotent repeat, answered from the first attempt's record


@dataclass(frozen=True)
class Settings:
    snapshot_interval: int = 100
    max_attempts: int = 5
    idempotency_ttl: timedelta = timedelta(hours=24)
    state_cache_size: int = 1000  # accounts whose last state a process keeps to skip the load (0: off)


@dataclass
class AccountService:
    store: EventStore
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    backoff: Callable[[int], None] = field(default=lambda attempt: None)

    def __post_init__(self) -> None:
        self.repository = AccountRepository(self.store, page_size=self.settings.snapshot_interval)
        self.cache = StateCache(self.settings.state_cache_size)

    # --- commands ----------------------------------------------------------------------------------------------

    def execute(self, command: Command, context: CommandContext) -> CommandOutcome:
        """Run `command`, retrying on a lost race; an idempotent repeat returns the first outcome."""
        attempt = 0
        while True:
            loaded, cached = self._load_for_command(command.account_id)
            try:
                events = self._decide(loaded, command, context)
            except (DomainError, PreconditionFailedError):
                if cached:  # the refusal may come from a stale cache entry: decide again on a fresh load
                    self.cache.forget(command.account_id)
                    continue
                replay = self._replay(context)
                if replay is not None:
                    return replay
                raise
            assert loaded is not None  # _decide refuses a foreign stream
            outcome, records, snapshot = self._record(loaded, command, events, context)
            try:
                self.store.append(records, snapshot=snapshot, idempotency=self._idempotency(outcome, context))
            except IdempotencyKeyInUseError:
                replay = self._replay(context)
                if replay is not None:
                    return replay
            except ConcurrencyConflictError:
                self.cache.forget(command.account_id)
                if not cached:
                    attempt += 1
                    if attempt >= self.settings.max_attempts:
                        raise ConcurrencyConflictError(
                            f"Account {command.account_id!r} kept changing under this command; it was tried "
                            f"{self.settings.max_attempts} times. Send it again."
                        ) from None
                    self.backoff(attempt)
            else:
                self.cache.put(command.account_id, Loaded(outcome.account, 0, outcome.account.updated_at))
                return outcome

    def _load_for_command(self, account_id: str) -> tuple[Loaded | None, bool]:
        """(the state to decide on, whether it came from the cache); None for another aggregate type's id."""
        cached = self.cache.get(account_id)
        if cached is not None:
            return cached, True
        try:
            return self.repository.load(account_id), False
        except ForeignStreamError:
            return None, False

    def _decide(self, loaded: Loaded | None, command: Command, context: CommandContext) -> list[Event]:
        if loaded is None:  # the id belongs to another aggregate type
            if isinstance(command, OpenAccount):
                raise AccountAlreadyExistsError(f"Account {command.account_id!r} already exists.")
            raise AccountNotFoundError(f"Account {command.account_id!r} does not exist.")
        expected = context.expected_version
        if expected is not None and loaded.state is not None and loaded.state.version != expected:
            raise PreconditionFailedError(
                f"The account is at version {loaded.state.version}, not {expected} as If-Match requires."
            )
        return decide(loaded.state, command)

    def _record(
        self, loaded: Loaded, command: Command, events: list[Event], context: CommandContext
    ) -> tuple[CommandOutcome, list[EventRecord], SnapshotRecord | None]:
        occurred_at = to_iso_ms(not_before(self.clock(), loaded.last_occurred_at))
        metadata = {"correlation_id": context.correlation_id, "causation_id": context.causation_id}
        if context.idempotency is not None:
            metadata["idempotency_key"] = context.idempotency.key
        state, records = loaded.state, []
        for event in events:
            version = (state.version if state else 0) + 1
            event_type, schema_version, data = ACCOUNT_EVENTS.encode(event)
            state = evolve(state, event, version, occurred_at)
            records.append(
                EventRecord(
                    aggregate_type=AGGREGATE_TYPE,
                    aggregate_id=command.account_id,
                    version=version,
                    event_id=self.new_id(),
                    event_type=event_type,
                    schema_version=schema_version,
                    occurred_at=occurred_at,
                    data=data,
                    metadata=metadata,
                    state=encode_state(state),
                    state_schema_version=STATE_SCHEMA_VERSION,
                )
            )
        assert state is not None
        assert records[-1].state is not None
        snapshot = None
        if self._snapshot_due(loaded, state.version, len(events)):
            snapshot = SnapshotRecord(
                AGGREGATE_TYPE, state.account_id, state.version, STATE_SCHEMA_VERSION, records[-1].state, occurred_at
            )
        return CommandOutcome(state, created=isinstance(command, OpenAccount)), records, snapshot

    def _snapshot_due(self, loaded: Loaded, version: int, appended: int) -> bool:
        """Every `snapshot_interval` versions, and at once when the load had to replay that many events."""
        interval = self.settings.snapshot_interval
        return version // interval > (version - appended) // interval or loaded.replayed >= interval

    def _idempotency(self, outcome: CommandOutcome, context: CommandContext) -> IdempotencyRecord | None:
        if context.idempotency is None:
            return None
        now = self.clock()
        return IdempotencyRecord(
            key=context.idempotency.scoped_key,
            fingerprint=context.idempotency.fingerprint,
            aggregate_type=AGGREGATE_TYPE,
            aggregate_id=outcome.account.account_id,
            version=outcome.account.version,
            created=outcome.created,
            state=encode_state(outcome.account),
            state_schema_version=STATE_SCHEMA_VERSION,
            recorded_at=to_iso_ms(now),
            expires_at=epoch_seconds(now, self.settings.idempotency_ttl),
        )

    def _replay(self, context: CommandContext) -> CommandOutcome | None:
        if context.idempotency is None:
            return None
        record = self.store.idempotency_record(context.idempotency.scoped_key, now=epoch_seconds(self.clock()))
        if record is None:
            return None
        if record.fingerprint != context.idempotency.fingerprint:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was already used for a different request; use a new key for a new request."
            )
        account = decode_state(record.state_schema_version, record.state)
        if account is None:
            account = self.get(record.aggregate_id, version=record.version)
        return CommandOutcome(account, created=record.created, replayed=True)

    # --- queries -----------------------------------------------------------------------------------------------

    def get(self, account_id: str, *, version: int | None = None, as_of: datetime | None = None) -> Account:
        """Current state, or the state at `version` or at instant `as_of` (temporal query)."""
        if as_of is not None:
            version = self.store.version_at(account_id, to_iso_ms(as_of))
            if version is None:
                raise AccountNotFoundError(f"Account {account_id!r} did not exist at {to_iso_ms(as_of)}.")
        try:
            state = self.repository.load(account_id, to_version=version).state
        except ForeignStreamError:
            state = None
        if state is None:
            raise AccountNotFoundError(f"Account {account_id!r} does not exist.")
        if version is not None and state.version != version:
            raise VersionNotFoundError(f"Account {account_id!r} has no version {version}; it is at {state.version}.")
        return state

    def history(self, account_id: str, *, after: int, limit: int) -> tuple[list[EventRecord], int | None]:
        """Up to `limit` events after version `after` in the current schema, and the cursor of the next page."""
        records = self.store.read_forward(account_id, after=after, limit=limit + 1)
        exists = records[0].aggregate_type == AGGREGATE_TYPE if records else self._exists(account_id)
        if not exists:
            raise AccountNotFoundError(f"Account {account_id!r} does not exist.")
        page = [self._upcast(record) for record in records[:limit]]
        return page, (page[-1].version if len(records) > limit else None)

    def _exists(self, account_id: str) -> bool:
        item = next(self.store.read_backward(account_id, page_size=1), None)
        return item is not None and item.aggregate_type == AGGREGATE_TYPE

    @staticmethod
    def _upcast(record: EventRecord) -> EventRecord:
        schema_version, data = ACCOUNT_EVENTS.upcast(record)
        return EventRecord(
            record.aggregate_type,
            record.aggregate_id,
            record.version,
            record.event_id,
            record.event_type,
            schema_version,
            record.occurred_at,
            data,
            record.metadata,
        )
