"""Loading an aggregate from the event store (newest state, snapshot, or fold), and a per-process cache of states."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ledger.kernel.aggregate import Aggregate
from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, SnapshotRecord, StreamId, StreamItem

S = TypeVar("S")


@dataclass(frozen=True)
class Loaded(Generic[S]):
    state: S | None  # None: the aggregate has no history
    version: int  # the version `state` is at (0: no history)
    last_occurred_at: str | None  # when the event at `version` occurred
    events_folded: int = 0  # events folded on top of the stored state the load started from (0: it was current)


class Repository(Generic[S]):
    def __init__(self, aggregate: Aggregate[Any, Any, S], store: EventStore, *, page_size: int) -> None:
        self.aggregate = aggregate
        self.store = store
        self.page_size = page_size

    def stream(self, aggregate_id: str) -> StreamId:
        return StreamId(self.aggregate.type, aggregate_id)

    def load(self, aggregate_id: str, *, to_version: int | None = None) -> Loaded[S]:
        """The state at `to_version` (default: the newest): the newest decodable stored state at or below it (on
        an event, or a snapshot) plus the events after it, folded.

        Usually one item: the newest event carries the state after it. When that state does not decode (its
        schema changed), the load reads back, `page_size` items a call, to a state or snapshot that does, or to
        the first event.
        """
        tail: list[EventRecord] = []
        start = Loaded[S](None, 0, None)
        items = self.store.read_backward(self.stream(aggregate_id), to_version=to_version, page_size=self.page_size)
        for item in items:
            stored = self._stored_state(item)
            if stored is not None:
                start = Loaded(stored, item.version, _occurred_at(item))
                break
            if isinstance(item, EventRecord):
                tail.append(item)
        state, occurred_at = start.state, start.last_occurred_at
        for record in reversed(tail):
            state = self.aggregate.evolve(
                state, self.aggregate.events.decode(record), record.version, record.occurred_at
            )
            occurred_at = record.occurred_at
        version = tail[0].version if tail else start.version
        return Loaded(state, version, occurred_at, len(tail))

    def state_after(self, event: EventRecord) -> Loaded[S] | None:
        """The state `event` carries (the state right after it), when it carries one that decodes."""
        state = self._stored_state(event)
        return None if state is None else Loaded(state, event.version, event.occurred_at)

    def _stored_state(self, item: StreamItem) -> S | None:
        if isinstance(item, SnapshotRecord):
            return self.aggregate.state.decode(item.schema_version, item.state)
        if item.state is None or item.state_schema_version is None:
            return None
        return self.aggregate.state.decode(item.state_schema_version, item.state)


def _occurred_at(item: StreamItem) -> str:
    # A snapshot sits right after its event; its taken_at is when a command wrote it, at or after that event.
    return item.occurred_at if isinstance(item, EventRecord) else item.taken_at


class StateCache(Generic[S]):
    """The last state this process wrote or loaded per aggregate (least recently used evicted first).

    A command may decide on a cached state without reading: the append is conditional on the next version being
    free, so a stale entry can only make it fail (then the command reloads), never write on a wrong base. A
    refusal or a no-op decided on a cached state is checked again on a fresh load before it is answered.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, Loaded[S]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: str) -> Loaded[S] | None:
        with self._lock:
            entry = self._entries.get(aggregate_id)
            if entry is not None:
                self._entries.move_to_end(aggregate_id)
            return entry

    def put(self, aggregate_id: str, loaded: Loaded[S]) -> None:
        if self._size <= 0 or loaded.state is None:
            return
        with self._lock:
            self._entries[aggregate_id] = loaded
            self._entries.move_to_end(aggregate_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, aggregate_id: str) -> None:
        with self._lock:
            self._entries.pop(aggregate_id, None)
