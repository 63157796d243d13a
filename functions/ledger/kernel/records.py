"""What the event store keeps, independent of any aggregate type and of any storage technology."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class StreamId:
    """One aggregate's stream. Ids are scoped by type: two aggregates of different types may share an id string and
    still have separate streams."""

    aggregate_type: str
    aggregate_id: str

    def __str__(self) -> str:
        return f"{self.aggregate_type} {self.aggregate_id!r}"


@dataclass(frozen=True)
class EventRecord:
    """One stored event: position `version` (1, 2, 3... gapless) in the stream of one aggregate."""

    aggregate_type: str
    aggregate_id: str
    version: int
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: str  # UTC ISO-8601 with milliseconds, e.g. 2026-11-26T08:31:59.123Z
    data: JsonObject
    metadata: Mapping[str, str]
    # The aggregate's state right after this event, encoded like a snapshot: a load that finds it on the newest
    # event needs no other item. Optional: a writer may leave it out, and a reader ignores one it cannot decode.
    state: JsonObject | None = None
    state_schema_version: int | None = None

    @property
    def stream(self) -> StreamId:
        return StreamId(self.aggregate_type, self.aggregate_id)


@dataclass(frozen=True)
class SnapshotRecord:
    """The state of an aggregate after event `version`, so a load can skip the events before it."""

    aggregate_type: str
    aggregate_id: str
    version: int
    schema_version: int
    state: JsonObject
    taken_at: str

    @property
    def stream(self) -> StreamId:
        return StreamId(self.aggregate_type, self.aggregate_id)


@dataclass(frozen=True)
class IdempotencyRecord:
    """The outcome of the first successful command sent with an idempotency key, written with its events."""

    key: str
    fingerprint: str  # hash of what was asked (method, path, body): the same key with another body is refused
    aggregate_type: str
    aggregate_id: str
    version: int
    created: bool
    state: JsonObject  # the aggregate's state after the command, encoded like a snapshot
    state_schema_version: int
    recorded_at: str
    expires_at: int  # epoch seconds; DynamoDB TTL removes the record some time after

    @property
    def recorded_epoch(self) -> int:
        """When the record was made, in epoch seconds: a record expired by then no longer holds its key."""
        return int(datetime.fromisoformat(self.recorded_at).timestamp())


StreamItem = EventRecord | SnapshotRecord
