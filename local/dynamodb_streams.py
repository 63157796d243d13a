"""Reading moto's DynamoDB streams in process, from where the reader left off: the journal and the stream pollers of
the event source mappings share this.

The records come from `MotoServer.stream_records`, under moto's lock (its docstring says why not through the Streams
API: a cancelled transaction replaces the table and its stream with a copy, so an iterator held across requests
would read a stale stream). A cursor remembers the last sequence number it returned, which survives such a copy.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Protocol


class StreamSource(Protocol):
    def stream_records(
        self, table_name: str, region: str, after: str | None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """GetRecords' records of the table's stream after sequence number `after` (None: from the first),
        at most `limit` of them (None: all)."""


class StreamCursor:
    """One reader's position in one table's stream."""

    def __init__(self, source: StreamSource, table_name: str, region: str, after: str | None = None) -> None:
        self._source = source
        self.table_name = table_name
        self._region = region
        self.position = after  # the sequence number of the last record returned

    def next(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The records after the last one returned (at most `limit`), in order; moto's shapes, images as boto3
        attribute values (binary as bytes: see `wire_json`)."""
        records = self._source.stream_records(self.table_name, self._region, self.position, limit)
        if records:
            self.position = records[-1]["dynamodb"]["SequenceNumber"]
        return records

    def skip_to_end(self) -> None:
        """Move past every record in the stream now (a LATEST starting position)."""
        while self.next(1000):
            pass


def wire_json(value: Any) -> Any:
    """boto3's attribute values (binary as bytes) -> DynamoDB JSON as on the wire (binary as base64), the form the
    journal stores and Lambda delivers."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {key: wire_json(element) for key, element in value.items()}
    if isinstance(value, list | set | tuple):
        return [wire_json(element) for element in value]
    return value
