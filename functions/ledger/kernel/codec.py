"""Turning domain events and states into stored JSON objects and back, with schema evolution.

Every stored event carries its schema version. On read, upcasters turn an older stored shape into the next one,
step by step, until it has the current shape; only then is it turned into a domain object. Stored events are never
rewritten.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar, cast

from ledger.kernel.records import EventRecord, JsonObject

E = TypeVar("E")
S = TypeVar("S")

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class CodecError(ValueError):
    """A stored object does not have the shape its type and schema version promise."""


@dataclass(frozen=True)
class EventType(Generic[E]):
    name: str
    cls: type[E]
    schema_version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)  # from version N to N + 1


class EventCodec(Generic[E]):
    def __init__(self, event_types: list[EventType[Any]]) -> None:
        self._by_name = {t.name: t for t in event_types}
        self._by_class = {t.cls: t for t in event_types}
        for t in event_types:
            missing = [v for v in range(1, t.schema_version) if v not in t.upcasters]
            if missing:
                raise ValueError(f"{t.name}: no upcaster from schema version(s) {missing}")

    def knows(self, event_type: str) -> bool:
        return event_type in self._by_name

    def encode(self, event: E) -> tuple[str, int, dict[str, Any]]:
        """(event type, schema version, data) of a domain event."""
        event_type = self._by_class[type(event)]
        return event_type.name, event_type.schema_version, dataclasses.asdict(event)  # type: ignore[call-overload]

    def upcast(self, record: EventRecord) -> tuple[int, dict[str, Any]]:
        """(current schema version, data in the current shape) of a stored event."""
        event_type = self._by_name.get(record.event_type)
        if event_type is None:
            raise CodecError(f"unknown event type {record.event_type!r}")
        version, data = record.schema_version, dict(record.data)
        if not 1 <= version <= event_type.schema_version:
            raise CodecError(f"{record.event_type} has unknown schema version {version}")
        while version < event_type.schema_version:
            data = event_type.upcasters[version](data)
            version += 1
        return version, data

    def upcast_record(self, record: EventRecord) -> EventRecord:
        """The stored event in its type's current schema (without the state the stored item may carry)."""
        schema_version, data = self.upcast(record)
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

    def decode(self, record: EventRecord) -> E:
        """The domain event of a stored event (upcast first). Raises CodecError when it has not its schema's shape."""
        _, data = self.upcast(record)
        return cast(E, from_json(self._by_name[record.event_type].cls, data))


class StateCodec(Generic[S]):
    """How an aggregate's state (a frozen dataclass) is stored on events, snapshots and idempotency records.

    Bump `schema_version` when the state changes shape: stored states of another version no longer decode, and a
    load folds events from an older state (or the first event) instead.
    """

    def __init__(self, cls: type[S], *, schema_version: int) -> None:
        self.cls = cls
        self.schema_version = schema_version

    def encode(self, state: S) -> dict[str, Any]:
        encoded: dict[str, Any] = dataclasses.asdict(state)  # type: ignore[call-overload]
        return encoded

    def decode(self, schema_version: int, data: JsonObject) -> S | None:
        """The state stored as `data`, or None when it no longer decodes (another schema version, another shape)."""
        if schema_version != self.schema_version:
            return None
        try:
            return from_json(self.cls, data)
        except CodecError:
            return None

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(_fields(cast(Hashable, self.cls)))


def from_json(cls: type[S], data: JsonObject) -> S:
    """Build the frozen dataclass `cls` from a JSON object, checking every field's type exactly.

    Nested dataclasses come from JSON objects and `tuple[X, ...]` fields from JSON arrays (or tuples). Raises
    CodecError for a missing or unknown field or a value of the wrong type (a bool is not an int).
    """
    fields = _fields(cast(Hashable, cls))
    unknown = set(data) - fields.keys()
    if unknown:
        raise CodecError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, (hint, required) in fields.items():
        if name not in data:
            if required:
                raise CodecError(f"{cls.__name__}: missing field {name!r}")
            continue
        values[name] = _converted(data[name], hint, f"{cls.__name__}.{name}")
    return cls(**values)


@cache
def _fields(cls: Any) -> dict[str, tuple[Any, bool]]:
    """{field name: (type, required)} of a dataclass, resolved once (type hints cost ~0.1 ms a call)."""
    hints = typing.get_type_hints(cls)
    return {
        f.name: (hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(cls)
    }


def _converted(value: Any, hint: Any, where: str) -> Any:
    """`value` as a `hint`; CodecError when it is not one."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _first_converted(value, typing.get_args(hint), where)
    if origin is tuple and isinstance(value, list | tuple):  # tuple[X, ...]
        item = typing.get_args(hint)[0]
        return tuple(_converted(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return from_json(cast(type[Any], hint), value)
    if _is_plain(value, hint, origin):
        return value
    raise CodecError(f"{where}: {value!r} is not a {hint}")


def _first_converted(value: Any, hints: tuple[Any, ...], where: str) -> Any:
    for hint in hints:
        try:
            return _converted(value, hint, where)
        except CodecError:
            continue
    raise CodecError(f"{where}: {value!r} is none of {hints}")


def _is_plain(value: Any, hint: Any, origin: Any) -> bool:
    """Whether `value` is a `hint` that holds no other value (a literal, None, an int, a str...)."""
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is tuple or dataclasses.is_dataclass(hint):
        return False
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise TypeError(f"unsupported field type {hint!r}")
