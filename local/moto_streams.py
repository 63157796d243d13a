"""moto's streams from inside this process, where no API reaches: journaled records put back on start with their own
sequence numbers and times, so that the event source mappings resume from their checkpoints as if the runtime had
never stopped; and a cheap look at how far a Kinesis shard goes.

Neither API can put a record back: a write gets the next sequence number and the current time. So this reaches into
moto's backends, as `MotoServer.stream_records` does to read a table's stream. Restore only while nothing else reads
or writes the stream (on start, before the journal, the pipeline and the functions use it).

- A DynamoDB stream numbers its records `starting_sequence_number + index`: the restored shard starts at the first
  record put back (or at `next_sequence_number` when there is none), so that the run's first write gets the number
  after the last one journaled. Sequence numbers keep growing across restarts, as in DynamoDB.
- A Kinesis shard numbers a record one past the highest it holds: the restored records keep theirs, and the run's
  first write follows the last of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.moto_server import MOTO_ACCOUNT_ID


class _RestoredStreamRecord:
    """What moto's DynamoDB stream holds per record: something whose `to_json()` is the GetRecords record."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


def restore_dynamodb_stream(
    table_name: str, region: str, records: Sequence[dict[str, Any]], next_sequence_number: int
) -> None:
    """Make `records` (GetRecords' shape, consecutive sequence numbers ending at `next_sequence_number - 1`) the
    start of the table's stream, and `next_sequence_number` the number of its next write."""
    from moto.dynamodb.models import dynamodb_backends

    numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    first = numbers[0] if numbers else next_sequence_number
    if numbers != list(range(first, next_sequence_number)):
        raise ValueError(f"{table_name}: the records to restore are not numbered {first}..{next_sequence_number - 1}")
    shard = dynamodb_backends[MOTO_ACCOUNT_ID][region].get_table(table_name).stream_shard
    if shard is None:
        raise ValueError(f"{table_name} has no stream")
    if shard.items:
        raise ValueError(f"the stream of {table_name} is not empty: restore it before anything writes the table")
    shard.starting_sequence_number = first
    shard.items = [_RestoredStreamRecord(record) for record in records]  # type: ignore[misc]


@dataclass(frozen=True)
class KinesisEntry:
    """A Kinesis record as journaled: its shard, sequence number, partition key, data (base64) and arrival time."""

    shard: str
    sequence_number: int
    partition_key: str
    data: str
    arrival: float  # epoch seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "seq": str(self.sequence_number),
            "key": self.partition_key,
            "data": self.data,
            "at": self.arrival,
        }

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> KinesisEntry:
        return cls(str(entry["shard"]), int(entry["seq"]), str(entry["key"]), str(entry["data"]), float(entry["at"]))


def restore_kinesis_shard(stream_name: str, region: str, entries: Sequence[KinesisEntry]) -> None:
    """Put `entries` (one shard's, in order) back into the stream's shards, with their sequence numbers and times."""
    from moto.kinesis.models import Record, kinesis_backends

    stream = kinesis_backends[MOTO_ACCOUNT_ID][region].streams[stream_name]
    for entry in entries:
        shard = stream.shards.get(entry.shard)
        if shard is None:
            raise ValueError(f"{stream_name} has no shard {entry.shard} (resharding is not emulated)")
        if shard.records and entry.sequence_number <= shard.get_max_sequence_number():
            raise ValueError(f"{stream_name}/{entry.shard}: record {entry.sequence_number} is out of order")
        record = Record(entry.partition_key, entry.data, entry.sequence_number, None)  # type: ignore[arg-type]
        record.created_at_datetime = datetime.fromtimestamp(entry.arrival, UTC).replace(tzinfo=None)
        record.created_at = entry.arrival
        shard.records[entry.sequence_number] = record


def kinesis_last_sequence_number(stream_name: str, region: str, shard_id: str) -> int:
    """The sequence number of the shard's last record (0: none), read without a request: moto only ever appends to a
    shard, with growing numbers, so this tells whether anything was put since a number was seen. (One dictionary
    read under the GIL; no lock needed for a value that only grows.)"""
    from moto.kinesis.models import kinesis_backends

    shard = kinesis_backends[MOTO_ACCOUNT_ID][region].streams[stream_name].shards[shard_id]
    return int(shard.get_max_sequence_number())
