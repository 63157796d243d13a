"""The public event message: what the publisher puts on its aggregate type's Kinesis stream for every stored event,
and what the stream's consumers read. A documented contract (docs/schemas/event-message.schema.json): stored events
stay private to the store.

Messages carry events in their current schema (older stored versions are upcast on the way out, when the publisher
knows the type), never the state an event item carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.codec import CodecError
from ledger.kernel.records import EventRecord, JsonObject

_FIELDS: Final = {
    "event_id": str,
    "aggregate_type": str,
    "aggregate_id": str,
    "version": int,
    "type": str,
    "schema_version": int,
    "occurred_at": str,
    "data": dict,
    "metadata": dict,
}


class InvalidMessageError(ValueError):
    """A record that is not a public event message: a poison record, never skipped silently."""


@dataclass(frozen=True)
class EventMessage:
    event_id: str
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    schema_version: int
    occurred_at: str
    data: JsonObject
    metadata: Mapping[str, str]

    def to_record(self) -> EventRecord:
        """The message as the stored event it was made from (without the state the stored item carries)."""
        return EventRecord(
            self.aggregate_type,
            self.aggregate_id,
            self.version,
            self.event_id,
            self.type,
            self.schema_version,
            self.occurred_at,
            self.data,
            self.metadata,
        )

    @property
    def day(self) -> str:
        """The UTC date the event occurred on, e.g. 2026-11-26."""
        return self.occurred_at[:10]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "event_id": self.event_id,
                "aggregate_type": self.aggregate_type,
                "aggregate_id": self.aggregate_id,
                "version": self.version,
                "type": self.type,
                "schema_version": self.schema_version,
                "occurred_at": self.occurred_at,
                "data": dict(self.data),
                "metadata": dict(self.metadata),
            },
            separators=(",", ":"),
        ).encode()


def message_of(record: EventRecord, registry: Registry) -> EventMessage:
    """The public message of a stored event, upcast to its type's current schema when the type is known."""
    current = registry.upcast(record)
    return EventMessage(
        event_id=current.event_id,
        aggregate_type=current.aggregate_type,
        aggregate_id=current.aggregate_id,
        version=current.version,
        type=current.event_type,
        schema_version=current.schema_version,
        occurred_at=current.occurred_at,
        data=dict(current.data),
        metadata=dict(current.metadata),
    )


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object a stream record holds; InvalidMessageError for anything else."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidMessageError(f"not JSON: {error}") from error
    if not isinstance(body, dict):
        raise InvalidMessageError("not a JSON object")
    return body


def parse_message(raw: bytes) -> EventMessage:
    body = json_object(raw)
    for name, kind in _FIELDS.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidMessageError(f"field {name!r} is missing or not a {kind.__name__}")
    return EventMessage(**{name: body[name] for name in _FIELDS})


def decode_message(message: EventMessage, registry: Registry) -> RecordedEvent[Any] | None:
    """The typed event a message carries (upcast when it came in an older schema), or None when its aggregate or
    event type is not known here (a consumer skips and counts those). Raises InvalidMessageError when a known type
    has not its schema's shape: a poison record."""
    try:
        return registry.decode(message.to_record())
    except CodecError as error:
        raise InvalidMessageError(str(error)) from error
