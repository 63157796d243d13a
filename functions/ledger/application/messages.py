"""The public event message: what the publisher puts on account-transactions for every stored event, and what its
consumers read. A documented contract (docs/schemas/event-message.schema.json): stored events stay private to the store.

Messages carry events in their current schema (older stored versions are upcast on the way out), never the state
snapshot an event item carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ledger.application.account_codec import ACCOUNT_EVENTS
from ledger.application.codec import CodecError, EventCodec
from ledger.application.records import EventRecord, JsonObject
from ledger.domain.accounts import AGGREGATE_TYPE

CODECS: Final[Mapping[str, EventCodec[Any]]] = {AGGREGATE_TYPE: ACCOUNT_EVENTS}
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


def message_of(record: EventRecord) -> EventMessage:
    """The public message of a stored event, upcast to its type's current schema when the type is known."""
    schema_version, data = record.schema_version, dict(record.data)
    codec = CODECS.get(record.aggregate_type)
    if codec is not None and codec.knows(record.event_type):
        schema_version, data = codec.upcast(record)
    return EventMessage(
        event_id=record.event_id,
        aggregate_type=record.aggregate_type,
        aggregate_id=record.aggregate_id,
        version=record.version,
        type=record.event_type,
        schema_version=schema_version,
        occurred_at=record.occurred_at,
        data=data,
        metadata=dict(record.metadata),
    )


def parse_message(raw: bytes) -> EventMessage:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidMessageError(f"not JSON: {error}") from error
    if not isinstance(body, dict):
        raise InvalidMessageError("not a JSON object")
    for name, kind in _FIELDS.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidMessageError(f"field {name!r} is missing or not a {kind.__name__}")
    return EventMessage(**{name: body[name] for name in _FIELDS})


def decode_event(message: EventMessage) -> object | None:
    """The domain event a message carries, or None when its aggregate or event type is unknown here (a consumer
    skips and counts those). Raises InvalidMessageError when a known type does not have its schema's shape."""
    codec = CODECS.get(message.aggregate_type)
    if codec is None or not codec.knows(message.type):
        return None
    try:
        decoded: object = codec.decode(message.to_record())
    except CodecError as error:
        raise InvalidMessageError(str(error)) from error
    return decoded
