"""Counters in DynamoDB that count each event once, however often it is delivered: an event's marker item (absent
until then, expiring long after any redelivery) and the counters it adds to are written in one transaction, so
either both land or neither does. A redelivered event's marker fails its condition and the event is left out.

The read models that sum events (daily reports, sales per minute) are built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from ledger.adapters.dynamodb_items import to_attribute
from ledger.application.ports import COUNTED_EVENTS_DAYS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Markers outlive any redelivery: a record is retried for at most a day (max record age), a DLQ keeps it 14 days.
MARKER_TTL: Final = timedelta(days=COUNTED_EVENTS_DAYS)
_ITEMS_PER_TRANSACTION: Final = 100  # TransactWriteItems' limit


@dataclass(frozen=True)
class Increment:
    """Counters to add to one item, and plain attributes to set on it (e.g. what the item is about)."""

    key: Mapping[str, Any]  # the item's key attributes, as plain values
    counters: Mapping[str, int]
    attributes: Mapping[str, str] = field(default_factory=dict)


class CountersTable:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        marker_key: Callable[[str], Mapping[str, Any]],  # the key of an event's marker item
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client, self._table, self._marker_key, self._clock = client, table, marker_key, clock

    def add(self, increments: Sequence[tuple[str, Increment]]) -> int:
        """Add each (event id, increment) whose event was not added before; how many events were new. An event's
        increments all go into one transaction with its marker (so one event's must fit: at most 99 items)."""
        by_event: dict[str, dict[tuple[Any, ...], Increment]] = {}
        for event_id, increment in increments:  # an event listed twice (delivered twice in a batch) adds once
            by_event.setdefault(event_id, {}).setdefault(_key_of(increment), increment)
        added, chunk, size = 0, dict[str, list[Increment]](), 0
        for event_id, parts in by_event.items():
            needed = 1 + len(parts)
            if chunk and size + needed > _ITEMS_PER_TRANSACTION:
                added += self._add_chunk(chunk)
                chunk, size = {}, 0
            chunk[event_id], size = list(parts.values()), size + needed
        return added + (self._add_chunk(chunk) if chunk else 0)

    def _add_chunk(self, chunk: dict[str, list[Increment]]) -> int:
        """One transaction: a marker per event and the summed counters per item; events seen before are dropped
        from the chunk and the rest tried again."""
        while chunk:
            event_ids = list(chunk)
            expires = int((self._clock() + MARKER_TTL).timestamp())
            markers: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _item(self._marker_key(event_id)) | {"expires_at": {"N": str(expires)}},
                        "ConditionExpression": "attribute_not_exists(#key)",
                        "ExpressionAttributeNames": {"#key": next(iter(self._marker_key(event_id)))},
                    }
                }
                for event_id in event_ids
            ]
            updates = [self._update(increment) for increment in _summed(chunk)]
            try:
                self._client.transact_write_items(TransactItems=cast(Any, markers + updates))
            except ClientError as error:
                seen = _seen_before(error, event_ids)
                if not seen:
                    raise  # a conflict with a concurrent writer: the batch is retried
                chunk = {event_id: parts for event_id, parts in chunk.items() if event_id not in seen}
                continue
            return len(chunk)
        return 0

    def _update(self, increment: Increment) -> dict[str, Any]:
        names = {f"#c{i}": name for i, name in enumerate(increment.counters)}
        names |= {f"#a{i}": name for i, name in enumerate(increment.attributes)}
        values = {f":c{i}": to_attribute(value) for i, value in enumerate(increment.counters.values())}
        values |= {f":a{i}": {"S": value} for i, value in enumerate(increment.attributes.values())}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(increment.attributes)))
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(increment.counters)))
        return {
            "Update": {
                "TableName": self._table,
                "Key": _item(increment.key),
                "UpdateExpression": (f"SET {sets} " if sets else "") + f"ADD {adds}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }


def _summed(chunk: dict[str, list[Increment]]) -> list[Increment]:
    """The chunk's increments, one per item (a transaction may touch an item once)."""
    sums: dict[tuple[Any, ...], Increment] = {}
    for parts in chunk.values():
        for part in parts:
            seen = sums.get(_key_of(part))
            if seen is None:
                sums[_key_of(part)] = part
                continue
            counters = {
                name: seen.counters.get(name, 0) + part.counters.get(name, 0)
                for name in {**seen.counters, **part.counters}
            }
            sums[_key_of(part)] = Increment(seen.key, counters, {**seen.attributes, **part.attributes})
    return list(sums.values())


def _key_of(increment: Increment) -> tuple[Any, ...]:
    return tuple(sorted(increment.key.items()))


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: to_attribute(value) for name, value in values.items()}


def _seen_before(error: ClientError, event_ids: list[str]) -> set[str]:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        raise error
    reasons = [r.get("Code") for r in cast(Any, error.response).get("CancellationReasons", [])]
    return {event_ids[i] for i, code in enumerate(reasons[: len(event_ids)]) if code == "ConditionalCheckFailed"}
