"""Publishing stored events: each aggregate type's events, as public messages, onto the stream the topology assigns
to that type (one PutRecords per stream per batch; partition key: the aggregate id, so each aggregate's events keep
their order). A type may be assigned several streams (e.g. a type every consumer must see): its events go to each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from ledger.kernel.aggregate import Registry
from ledger.kernel.messages import message_of
from ledger.kernel.ports import MessageBus
from ledger.kernel.records import EventRecord

K = TypeVar("K")  # what the caller names a record by (e.g. its stream sequence number)
Routes: TypeAlias = Mapping[str, str | tuple[str, ...]]  # aggregate type -> its stream, or its streams


class UnroutedEventError(LookupError):
    """No stream is assigned to the event's aggregate type: a configuration error, never dropped silently."""


@dataclass(frozen=True)
class Published(Generic[K]):
    put: int  # messages the streams took
    failed: Mapping[K, str]  # records not published, with why: the caller has them retried


class Publisher:
    def __init__(self, registry: Registry, routes: Routes, bus: MessageBus) -> None:
        self._registry = registry
        self._routes = {  # aggregate type -> stream names
            aggregate_type: (streams,) if isinstance(streams, str) else tuple(streams)
            for aggregate_type, streams in routes.items()
        }
        self._bus = bus

    def streams_of(self, record: EventRecord) -> tuple[str, ...]:
        streams = self._routes.get(record.aggregate_type)
        if not streams:
            raise UnroutedEventError(f"no stream is assigned to {record.aggregate_type} events")
        return streams

    def publish(self, records: Sequence[tuple[K, EventRecord]]) -> Published[K]:
        """Put each record's message on its type's streams, in order; what failed, and why (a record refused by any
        of its streams fails: its retry puts it on every one again, and their consumers drop the duplicate)."""
        failed: dict[K, str] = {}
        by_stream: dict[str, list[tuple[K, tuple[str, bytes]]]] = {}
        for name, record in records:
            try:
                streams = self.streams_of(record)
                message = message_of(record, self._registry)
            except Exception as error:
                failed[name] = f"{type(error).__name__}: {error}"
                continue
            for stream in streams:
                by_stream.setdefault(stream, []).append((name, (message.aggregate_id, message.to_json())))
        put = 0
        for stream, entries in by_stream.items():
            refused = self._bus.put(stream, [message for _, message in entries])
            put += len(entries) - len(refused)
            failed.update((entries[index][0], f"{stream} refused it") for index in refused)
        return Published(put, failed)
