"""Where a rebuild or a replay reads history, as pages of decoded events, each page of one stream and every stream's
pages in version order (pages of different streams may interleave):

- `StoreHistory`: the event store alone, every stream found by a scan of the event table (the rebuild on start).
- `ArchiveHistory`: the archive (kernel/archive.py), partition by partition from the oldest day, each event once,
  completed from the event store for what the archive does not hold yet: each aggregate's events after the newest
  archived one, the versions a delivery has not written yet, and the aggregates whose whole history is too recent to
  be archived, which the streams' recent records name (`recent`). The event table is then read one aggregate at a
  time, never scanned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.archive import Archive, Partition, unique_messages
from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, StreamId

Page = tuple[StreamId, list[RecordedEvent[Any]]]
# (aggregate types, the newest occurred_at archived or None) -> the streams recent stream records name
Recent = Callable[[frozenset[str], str | None], Iterable[StreamId]]
_PAGE = 500


class History(Protocol):
    def pages(self, aggregate_types: frozenset[str], *, events: bool = True) -> Iterator[Page]:
        """Every stream of those types as pages of its events; with `events` False, empty pages naming each stream
        at least once (for projections that need no event, only which aggregates exist)."""
        ...


class StoreHistory:
    def __init__(self, store: EventStore, registry: Registry, *, page_size: int = _PAGE) -> None:
        self._store, self._registry, self._page_size = store, registry, page_size

    def pages(self, aggregate_types: frozenset[str], *, events: bool = True) -> Iterator[Page]:
        for aggregate_type in sorted(aggregate_types):
            for aggregate_id in self._store.aggregate_ids(aggregate_type):
                stream = StreamId(aggregate_type, aggregate_id)
                if not events:
                    yield stream, []
                    continue
                for records in _store_pages(self._store, stream, after=0, size=self._page_size):
                    yield stream, decoded(self._registry, records)


class ArchiveHistory:
    def __init__(
        self,
        archive: Archive,
        store: EventStore,
        registry: Registry,
        *,
        since: str | None = None,
        recent: Recent = lambda types, after: (),
        on_event: Callable[[str], None] = lambda source: None,
        on_partition: Callable[[int, int, Partition], None] = lambda index, total, partition: None,
        page_size: int = _PAGE,
    ) -> None:
        """`since`: the first UTC day (YYYY-MM-DD) whose events are read (None: from the first event ever);
        `recent`: the streams the event streams' records name, of the given types, from a while before the newest
        archived event (None: none archived); `on_event` is told of each event read, with where it came from
        ("archive" or "store"), and `on_partition` of each partition started (its index from 1, how many): for a
        progress report."""
        self._archive, self._store, self._registry = archive, store, registry
        self._since, self._recent, self._page_size = since, recent, page_size
        self._on_event, self._on_partition = on_event, on_partition

    def pages(self, aggregate_types: frozenset[str], *, events: bool = True) -> Iterator[Page]:
        last: dict[StreamId, int] = {}  # the newest version handed out, per stream
        partitions = [
            p
            for p in self._archive.partitions()
            if p.aggregate_type in aggregate_types and (self._since is None or p.day >= self._since)
        ]
        newest: str | None = None  # the newest occurred_at archived
        for index, partition in enumerate(partitions, start=1):
            self._on_partition(index, len(partitions), partition)
            by_stream: dict[StreamId, list[EventRecord]] = defaultdict(list)
            for message, _copies in unique_messages(self._archive, [partition]):
                by_stream[StreamId(message.aggregate_type, message.aggregate_id)].append(message.to_record())
                newest = max(newest or "", message.occurred_at)
            for stream in sorted(by_stream, key=lambda s: s.aggregate_id):
                records = sorted(by_stream[stream], key=lambda r: r.version)
                if self._since is not None and stream not in last:
                    last[stream] = records[0].version - 1  # from the first event of the first day read
                yield from self._stream_pages(stream, records, last, events=events)
        # what the archive does not hold yet: each stream's newer events, and the streams too recent for it
        tails = dict.fromkeys(last)
        recent = self._recent(aggregate_types, newest)
        tails.update(dict.fromkeys(s for s in recent if s.aggregate_type in aggregate_types))
        for stream in tails:
            handed_out = stream in last
            for records in _store_pages(self._store, stream, after=last.get(stream, 0), size=self._page_size):
                kept = [r for r in records if self._since is None or r.occurred_at[:10] >= self._since]
                if not kept:
                    continue
                for _record in kept:
                    self._on_event("store")
                last[stream] = kept[-1].version
                if events:
                    yield stream, decoded(self._registry, kept)
                elif not handed_out:
                    yield stream, []
                handed_out = True

    def _stream_pages(
        self, stream: StreamId, records: list[EventRecord], last: dict[StreamId, int], *, events: bool
    ) -> Iterator[Page]:
        """One partition's events of a stream, in order after what was handed out, the versions the archive skips
        (not delivered yet) read from the store."""
        page: list[EventRecord] = []
        for record in records:
            newest = last.get(stream, 0)
            if record.version <= newest:
                continue  # handed out already (from the store, filling a gap)
            if record.version > newest + 1:  # a gap: those versions are not archived yet
                missing = self._store.read_forward(stream, after=newest, limit=record.version - newest - 1)
                page += missing
                for _record in missing:
                    self._on_event("store")
            self._on_event("archive")
            page.append(record)
            last[stream] = record.version
        if page and events:
            yield stream, decoded(self._registry, page)
        elif page:
            yield stream, []


def decoded(registry: Registry, records: Iterable[EventRecord]) -> list[RecordedEvent[Any]]:
    """The records' events, upcast and typed; types not known here left out."""
    return [event for event in map(registry.decode, records) if event is not None]


def _store_pages(store: EventStore, stream: StreamId, *, after: int, size: int) -> Iterator[list[EventRecord]]:
    """The stream's events after `after`, `size` at most per page."""
    while True:
        records = store.read_forward(stream, after=after, limit=size)
        if not records:
            return
        yield records
        after = records[-1].version
        if len(records) < size:
            return
