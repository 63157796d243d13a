"""Read models as declarations: what each does with the events of the aggregate types it reads, live and in a
rebuild, and the one loop that rebuilds any of them from the event store.

A read model fed from the event table's stream that keeps each aggregate's newest state is a `StateProjection`: no
code beyond its declaration. Others (fraud alerts, reports) implement `Projection.replay` with the same rules their
live consumers apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.ports import EventStore, StateViews
from ledger.kernel.records import EventRecord, StreamId
from ledger.kernel.repository import Repository

S = TypeVar("S")
_PAGE: Final = 500


class StreamHistory:
    """One aggregate's events, oldest first, decoded through its codec (upcast): read a page at a time on first
    use and kept, so every projection rebuilt in the same pass reads the stream once between them."""

    def __init__(self, stream: StreamId, store: EventStore, registry: Registry, *, page_size: int = _PAGE) -> None:
        self.stream = stream
        self._store = store
        self._registry = registry
        self._page_size = page_size
        self._pages: list[list[RecordedEvent[Any]]] = []
        self._read_to = 0
        self._complete = False

    @property
    def aggregate_id(self) -> str:
        return self.stream.aggregate_id

    def pages(self) -> Iterator[list[RecordedEvent[Any]]]:
        """The events a page at a time (events of types not known here are left out)."""
        yield from self._pages
        while not self._complete:
            records = self._store.read_forward(self.stream, after=self._read_to, limit=self._page_size)
            if not records:
                self._complete = True
                return
            self._read_to = records[-1].version
            page = [event for event in map(self._registry.decode, records) if event is not None]
            self._pages.append(page)
            yield page

    def events(self) -> Iterator[RecordedEvent[Any]]:
        for page in self.pages():
            yield from page


class Projection(Protocol):
    """A read model that can be rebuilt from the event store."""

    @property
    def aggregate_types(self) -> frozenset[str]:
        """The aggregate types whose events it reads."""
        ...

    def reset(self) -> int:
        """Remove what a rebuild writes again (0 for a model whose rows a rebuild replaces one by one)."""
        ...

    def replay(self, history: StreamHistory) -> int:
        """Apply one aggregate's whole history; how many rows it wrote."""
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

    def replay(self, history: StreamHistory) -> int:
        loaded = self.repository.load(history.aggregate_id)
        if loaded.state is None:
            return 0
        self.views.replace(history.aggregate_id, loaded.version, loaded.state)
        return 1


def rebuild(projections: Mapping[str, Projection], store: EventStore, registry: Registry) -> dict[str, int]:
    """Rebuild every projection of `projections` (by name) in one pass over the streams they read; how many rows
    each got. Each stream is read once, whichever projections read it."""
    for projection in projections.values():
        projection.reset()
    counts = dict.fromkeys(projections, 0)
    for aggregate_type in sorted(_types(projections.values())):
        readers = {name: p for name, p in projections.items() if aggregate_type in p.aggregate_types}
        for aggregate_id in store.aggregate_ids(aggregate_type):
            history = StreamHistory(StreamId(aggregate_type, aggregate_id), store, registry)
            for name, projection in readers.items():
                counts[name] += projection.replay(history)
    return counts


def _types(projections: Iterable[Projection]) -> set[str]:
    return {aggregate_type for projection in projections for aggregate_type in projection.aggregate_types}
