"""Read models as declarations: what each does with the events of the aggregate types it reads, live and in a
rebuild, and the one loop that rebuilds any of them from the event store.

A read model fed from the event table's stream that keeps each aggregate's newest state is a `StateProjection`: no
code beyond its declaration. Others (fraud alerts, reports) implement `Projection.replay` with the same rules their
live consumers apply, fed a page of decoded events at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.history import History, StoreHistory
from ledger.kernel.ports import EventStore, StateViews
from ledger.kernel.records import EventRecord, StreamId
from ledger.kernel.repository import Repository

S = TypeVar("S")
_PAGE: Final = 500


class Replay(Protocol):
    """One aggregate's history being replayed into one projection: fed its events a page at a time, oldest first
    (pages are read once and handed to every projection that reads them, so a rebuild holds one page at a time)."""

    @property
    def reads_events(self) -> bool:
        """False for a projection that needs no event (e.g. one that loads the newest state)."""
        ...

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None: ...

    def finish(self) -> int:
        """Write what is left; how many rows the stream gave the projection."""
        ...


class Projection(Protocol):
    """A read model that can be rebuilt from the event store."""

    @property
    def reads_events(self) -> bool:
        """False for a projection whose replays need no event, only which aggregates exist."""
        ...

    @property
    def partial_replay_days(self) -> int | None:
        """How far back a replay of part of history (from a day on, into the model as it is) stays exact: None, any
        day (each event is applied on its own, idempotently, forever); N, the last N days (it remembers what it
        applied that long); 0, never (it needs each aggregate's whole history): such a model is replayed whole."""
        ...

    @property
    def aggregate_types(self) -> frozenset[str]:
        """The aggregate types whose events it reads."""
        ...

    def reset(self) -> int:
        """Remove what a rebuild writes again (0 for a model whose rows a rebuild replaces one by one)."""
        ...

    def replay(self, stream: StreamId) -> Replay:
        """Start replaying one aggregate's history."""
        ...

    def complete(self) -> int:
        """Write what needs every stream replayed first (e.g. rules across aggregates); how many rows."""
        ...


class StateProjection(Generic[S]):
    """Each aggregate's newest state, from the state every stored event carries: a row moves to a newer version and
    is left alone by an older or repeated one, so order, duplicates and gaps do not matter (the state at version V
    folds every event up to V). An event whose state cannot be read is folded from the store up to it instead."""

    def __init__(self, repository: Repository[S], views: StateViews[S]) -> None:
        self.repository = repository
        self.views = views
        self.aggregate = repository.aggregate

    @property
    def reads_events(self) -> bool:
        return False  # a replay loads the newest state

    @property
    def partial_replay_days(self) -> int | None:
        return None  # a row moves to a newer version only: any part of history, any number of times

    @property
    def aggregate_types(self) -> frozenset[str]:
        return frozenset({self.aggregate.type})

    def apply(self, record: EventRecord) -> bool:
        """True: the row moved to this version; False: it already had it or a later one."""
        return self.views.put_if_newer(record.aggregate_id, record.version, self.state_at(record))

    def state_at(self, record: EventRecord) -> S:
        state = None
        if record.state is not None and record.state_schema_version is not None:
            state = self.aggregate.state.decode(record.state_schema_version, record.state)
        if state is None:
            state = self.repository.load(record.aggregate_id, to_version=record.version).state
        if state is None:
            raise LookupError(f"{record.stream} v{record.version} is on the stream but not in the store")
        return state

    def reset(self) -> int:
        return 0

    def replay(self, stream: StreamId) -> Replay:
        return _NewestState(self, stream.aggregate_id)

    def complete(self) -> int:
        return 0


@dataclass
class _NewestState(Generic[S]):
    """A state projection's rebuild of one aggregate: one load of its newest state, no event read."""

    projection: StateProjection[S]
    aggregate_id: str
    reads_events: bool = False

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        pass

    def finish(self) -> int:
        loaded = self.projection.repository.load(self.aggregate_id)
        if loaded.state is None:
            return 0
        self.projection.views.replace(self.aggregate_id, loaded.version, loaded.state)
        return 1


def rebuild(
    projections: Mapping[str, Projection], store: EventStore, registry: Registry, *, page_size: int = _PAGE
) -> dict[str, int]:
    """Rebuild every projection of `projections` (by name) from the event store; how many rows each got."""
    return rebuild_from(projections, StoreHistory(store, registry, page_size=page_size))


def rebuild_from(projections: Mapping[str, Projection], history: History, *, reset: bool = True) -> dict[str, int]:
    """Replay `history` into every projection of `projections` (by name), after resetting them unless `reset` is
    False; how many rows each got. History is read once, a page at a time, whichever projections read it; a stream's
    replays are finished once history is read (its pages may come at any point of it: an archive's days)."""
    if reset:
        for projection in projections.values():
            projection.reset()
    counts = dict.fromkeys(projections, 0)
    types = frozenset(_types(projections.values()))
    with_events = frozenset(t for t in types if any(p.reads_events for p in _readers(projections, t).values()))
    open_replays: dict[StreamId, dict[str, Replay]] = {}
    for needs_events, kinds in ((True, with_events), (False, types - with_events)):
        if not kinds:
            continue
        for stream, page in history.pages(kinds, events=needs_events):
            replays = open_replays.get(stream)
            if replays is None:
                readers = _readers(projections, stream.aggregate_type)
                replays = open_replays[stream] = {name: p.replay(stream) for name, p in readers.items()}
            if page:
                for replay in replays.values():
                    if replay.reads_events:
                        replay.feed(page)
    for replays in open_replays.values():
        for name, replay in replays.items():
            counts[name] += replay.finish()
    for name, projection in projections.items():
        counts[name] += projection.complete()
    return counts


def _readers(projections: Mapping[str, Projection], aggregate_type: str) -> dict[str, Projection]:
    return {name: p for name, p in projections.items() if aggregate_type in p.aggregate_types}


def _types(projections: Iterable[Projection]) -> set[str]:
    return {aggregate_type for projection in projections for aggregate_type in projection.aggregate_types}
