"""An in-memory EventStore with the same contract as the DynamoDB one: for unit tests and in-process tools."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence

from ledger.kernel.errors import ConcurrencyConflictError, IdempotencyKeyInUseError
from ledger.kernel.records import EventRecord, IdempotencyRecord, SnapshotRecord, StreamId, StreamItem


class InMemoryEventStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[StreamId, list[EventRecord]] = defaultdict(list)
        self._snapshots: dict[StreamId, dict[int, SnapshotRecord]] = defaultdict(dict)
        self._idempotency: dict[str, IdempotencyRecord] = {}
        self.appends = 0  # successful appends, for tests that check nothing was written

    def append(
        self,
        events: Sequence[EventRecord],
        *,
        snapshot: SnapshotRecord | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        with self._lock:
            if idempotency is not None:
                existing = self._idempotency.get(idempotency.key)
                if existing is not None and existing.expires_at >= idempotency.recorded_epoch:
                    raise IdempotencyKeyInUseError(f"idempotency key {idempotency.key!r} has a record")
            for event in events:
                if event.version <= len(self._events[event.stream]):
                    taken = self._events[event.stream][event.version - 1]
                    raise ConcurrencyConflictError(f"{event.stream} v{event.version} exists", taken=taken)
            pending: dict[StreamId, int] = {}
            for event in events:
                expected = pending.get(event.stream, len(self._events[event.stream])) + 1
                if event.version != expected:
                    raise ValueError(f"{event.stream}: version {event.version} would leave a gap")
                pending[event.stream] = event.version
            if snapshot is not None and snapshot.version in self._snapshots[snapshot.stream]:
                raise ConcurrencyConflictError(f"{snapshot.stream} snapshot v{snapshot.version} exists")
            for event in events:
                self._events[event.stream].append(event)
            if snapshot is not None:
                self._snapshots[snapshot.stream][snapshot.version] = snapshot
            if idempotency is not None:
                self._idempotency[idempotency.key] = idempotency
            self.appends += 1

    def read_backward(
        self, stream: StreamId, *, to_version: int | None = None, page_size: int = 100, first_page: int = 1
    ) -> Iterator[StreamItem]:
        with self._lock:
            events = list(self._events.get(stream, []))
            snapshots = dict(self._snapshots.get(stream, {}))
        top = len(events) if to_version is None else min(to_version, len(events))
        for version in range(top, 0, -1):
            if version in snapshots:
                yield snapshots[version]
            yield events[version - 1]

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        with self._lock:
            return list(self._events.get(stream, [])[max(after, 0) : max(after, 0) + limit])

    def version_at(self, stream: StreamId, instant: str) -> int | None:
        with self._lock:
            events = list(self._events.get(stream, []))
        at = [event.version for event in events if event.occurred_at <= instant]
        return at[-1] if at else None

    def idempotency_record(self, key: str, *, now: int) -> IdempotencyRecord | None:
        with self._lock:
            record = self._idempotency.get(key)
        return record if record is not None and record.expires_at >= now else None

    def aggregate_ids(self, aggregate_type: str) -> Iterator[str]:
        with self._lock:
            streams = [stream for stream, events in self._events.items() if events]
        yield from (stream.aggregate_id for stream in streams if stream.aggregate_type == aggregate_type)

    # --- for tests ---------------------------------------------------------------------------------------------

    def put_raw_snapshot(self, snapshot: SnapshotRecord) -> None:
        with self._lock:
            self._snapshots[snapshot.stream][snapshot.version] = snapshot

    def put_raw_event(self, event: EventRecord) -> None:
        """Store an event as an older release wrote it (e.g. an old schema version), bypassing the checks."""
        with self._lock:
            self._events[event.stream].append(event)

    def events(self) -> list[EventRecord]:
        """Every stored event, stream by stream (for tests that feed them to consumers)."""
        with self._lock:
            return [event for stream in sorted(self._events, key=str) for event in self._events[stream]]
