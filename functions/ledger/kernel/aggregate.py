"""How an aggregate plugs into the kernel: one declaration naming its type, codecs and decider, and the registry of
every declared aggregate that the publisher, the projector, the consumers and the rebuild look types up in.

A declaration, e.g. a counter that refuses to go below zero (the whole of what a new aggregate costs):

    COUNTER = Aggregate(
        type="Counter",
        events=EventCodec([EventType("CounterCreated", CounterCreated), EventType("Incremented", Incremented)]),
        state=StateCodec(Counter, schema_version=1),
        decide=decide,                       # (state | None, command) -> events, or raises a DomainError
        evolve=evolve,                       # (state | None, event, version, occurred_at) -> state
        id_of=lambda command: command.counter_id,
        creation=(CreateCounter,),
        commuting=(Increment,),              # a lost race is retried until the retry budget, never after a count
        not_found=CounterNotFoundError,
        already_exists=CounterExistsError,
    )
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ledger.domain.errors import DomainError
from ledger.kernel.codec import EventCodec, StateCodec
from ledger.kernel.records import EventRecord

C = TypeVar("C")  # the aggregate's commands
E = TypeVar("E")  # its events
S = TypeVar("S")  # its state

CommandClass = type[Any]
ErrorClass = type[DomainError]
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")


@dataclass(frozen=True, eq=False)
class Aggregate(Generic[C, E, S]):
    type: str  # stored with every event ("aggregate_type") and part of every stream's id: never rename one
    events: EventCodec[E]  # its event types, their schema versions and upcasters
    state: StateCodec[S]  # how its state is stored on events, snapshots and idempotency records
    decide: Callable[[S | None, C], Sequence[E]]  # the events a command produces, or a DomainError
    evolve: Callable[[S | None, E, int, str], S]  # (state, event, version, occurred_at) -> the state after it
    id_of: Callable[[C], str]  # the id of the aggregate a command is for
    creation: tuple[CommandClass, ...]  # the command types that create an aggregate (refused when it exists)
    not_found: ErrorClass  # raised, with a sentence, for a command or read naming no aggregate
    already_exists: ErrorClass  # raised for a creation command naming an aggregate that exists
    # How its streams are keyed in the event table: "<type>#<id>" (scoped: the default), or the bare id, for a type
    # whose streams were written before ids were scoped. At most one type can be bare; its ids must not hold '#', so
    # a bare key never equals a scoped one.
    bare_stream_keys: bool = False
    # Command types that create the aggregate when it does not exist yet and change it when it does (e.g. stock per
    # sku, which the first restock or reservation brings into being). The others need the aggregate to exist.
    creation_or_change: tuple[CommandClass, ...] = ()
    # Command types that commute: whichever order concurrent ones land in, each has the same effect and none would
    # be decided otherwise (e.g. deposits: any order gives the same balance). A lost race is then never worth telling
    # the client, so the service retries them for as long as its retry budget lasts (kernel/retries.py) instead of
    # giving up after a few attempts. Each retry still decides on a newer state (the winner's, or a fresh load) and
    # appends conditionally, so a rule they check (a limit on the balance) is checked on the state they follow.
    commuting: tuple[CommandClass, ...] = ()

    def __post_init__(self) -> None:
        if not _TYPE_NAME.fullmatch(self.type):
            raise ValueError(f"aggregate type {self.type!r} must be a CapitalizedName of letters and digits")
        created = [kind.__name__ for kind in self.commuting if issubclass(kind, self.creation)]
        if created:
            raise ValueError(f"{self.type}: a creation command cannot commute (the second is refused): {created}")

    def creates(self, command: C) -> bool:
        return isinstance(command, self.creation)

    def may_create(self, command: C) -> bool:
        return isinstance(command, self.creation_or_change)

    def commutes(self, command: C) -> bool:
        return isinstance(command, self.commuting)

    def not_found_error(self, aggregate_id: str, detail: str = "does not exist") -> DomainError:
        return self.not_found(f"{self.type} {aggregate_id!r} {detail}.")

    def already_exists_error(self, aggregate_id: str) -> DomainError:
        return self.already_exists(f"{self.type} {aggregate_id!r} already exists.")


@dataclass(frozen=True)
class RecordedEvent(Generic[E]):
    """A domain event with where and when it was recorded: what consumers work with, never a raw stored dict."""

    record: EventRecord  # in its type's current schema
    event: E

    @property
    def aggregate_id(self) -> str:
        return self.record.aggregate_id

    @property
    def event_id(self) -> str:
        return self.record.event_id

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def occurred_at(self) -> str:
        return self.record.occurred_at


class UnknownAggregateTypeError(LookupError):
    pass


@dataclass(frozen=True)
class Declared:
    """Where an aggregate is declared, for a registry that loads it when first asked for it: a function that decodes
    one aggregate's events then never builds the others' classes (a cold start saved, docs/benchmark.md figure 3).
    Its type and whether it keeps bare stream keys are what the registry answers without loading it."""

    type: str
    where: str  # "package.module:ATTRIBUTE", the Aggregate
    bare_stream_keys: bool = False

    def load(self) -> Aggregate[Any, Any, Any]:
        module, _, attribute = self.where.partition(":")
        aggregate = getattr(importlib.import_module(module), attribute)
        if not isinstance(aggregate, Aggregate):
            raise TypeError(f"{self.where} is not an Aggregate")
        if (aggregate.type, aggregate.bare_stream_keys) != (self.type, self.bare_stream_keys):
            raise ValueError(
                f"{self.where} declares type {aggregate.type!r} (bare stream keys: {aggregate.bare_stream_keys}), "
                f"not {self.type!r} ({self.bare_stream_keys}) as the registry says"
            )
        return aggregate


class Registry:
    """Every declared aggregate, by type: given as it is, or as where it is declared (loaded on first use)."""

    def __init__(self, aggregates: Iterable[Aggregate[Any, Any, Any] | Declared]) -> None:
        self._declared: dict[str, Aggregate[Any, Any, Any] | Declared] = {}
        for aggregate in aggregates:
            if aggregate.type in self._declared:
                raise ValueError(f"aggregate type {aggregate.type!r} is declared twice")
            self._declared[aggregate.type] = aggregate
        bare = [a.type for a in self._declared.values() if a.bare_stream_keys]
        if len(bare) > 1:
            raise ValueError(f"only one aggregate type may keep bare stream keys, not {bare}")
        self._loaded = {t: a for t, a in self._declared.items() if isinstance(a, Aggregate)}

    def __iter__(self) -> Iterator[Aggregate[Any, Any, Any]]:
        return iter([self[aggregate_type] for aggregate_type in self._declared])

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self._declared)

    def __getitem__(self, aggregate_type: str) -> Aggregate[Any, Any, Any]:
        loaded = self._loaded.get(aggregate_type)
        if loaded is not None:
            return loaded
        declared = self._declared.get(aggregate_type)
        if declared is None:
            raise UnknownAggregateTypeError(f"no aggregate of type {aggregate_type!r} is declared")
        # Two threads may both load it: importing is idempotent and both get the same object.
        aggregate = declared if isinstance(declared, Aggregate) else declared.load()
        return self._loaded.setdefault(aggregate_type, aggregate)

    @property
    def bare_stream_key_types(self) -> frozenset[str]:
        return frozenset(a.type for a in self._declared.values() if a.bare_stream_keys)

    def knows(self, record: EventRecord) -> bool:
        """Whether the record's aggregate and event type are both declared (a newer release's are not)."""
        if record.aggregate_type not in self._declared:
            return False
        return self[record.aggregate_type].events.knows(record.event_type)

    def upcast(self, record: EventRecord) -> EventRecord:
        """The record in its type's current schema; unchanged when its type is not known here."""
        if not self.knows(record):
            return record
        return self[record.aggregate_type].events.upcast_record(record)

    def decode(self, record: EventRecord) -> RecordedEvent[Any] | None:
        """The typed event of a stored event, upcast; None when its aggregate or event type is not known here (a
        consumer skips and counts those). Raises CodecError when a known type has not its schema's shape."""
        if not self.knows(record):
            return None
        codec = self[record.aggregate_type].events
        current = codec.upcast_record(record)
        return RecordedEvent(current, codec.decode(current))
