"""The Kinesis streams' records, kept across restarts: `<data-dir>/kinesis-<stream>.jsonl`, one record a line
(`{"shard", "seq", "key", "data" (base64), "at" (arrival, epoch seconds)}`).

- Writing. `drain` reads every shard that has records after the last one journaled (it looks in process first, so an
  idle drain costs no request; then GetShardIterator / GetRecords on moto: Kinesis has no transactions to roll a
  record back) and appends and fsyncs what is new. It runs every second (for records
  put with the aws CLI), on shutdown, and before every checkpoint is written (local/checkpoints.py): a mapping's
  position never gets ahead of the records its invocations put.
- Reloading. On start, after the streams are created and before anything uses them, each shard gets back its
  records that some event source mapping has not finished (after the lowest checkpoint on that shard), with their
  sequence numbers and arrival times (local/moto_streams.py), and always its last record, so that new records
  number on from it. Records every mapping is done with are not restored: the file is rewritten with the restored
  ones only, so it holds what is still to be read plus this run's records.
- A line torn by a crash is cut off; any other unreadable line stops the start (local/files.py).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from infra.model import KinesisStream
from local.files import JournalError, PeriodicDrain, append_synced, line, read_lines, replace_synced
from local.logs import log
from local.moto_streams import KinesisEntry, kinesis_last_sequence_number, restore_kinesis_shard
from local.stream_events import epoch_seconds

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

_READ_LIMIT = 10_000  # GetRecords' largest page


@dataclass
class _Shard:
    stream: str
    shard_id: str
    file: IO[str]
    last: int | None  # the sequence number of the last record journaled
    iterator: str | None = None


class KinesisJournal:
    def __init__(
        self, data_dir: Path, streams: tuple[KinesisStream, ...], region: str, *, poll_seconds: float = 1.0
    ) -> None:
        self._dir = data_dir
        self._streams = streams
        self._region = region
        self._last: dict[tuple[str, str], int] = {}  # (stream, shard) -> the last record restored
        self._shards: list[_Shard] = []
        self._client: KinesisClient | None = None
        self._lock = threading.Lock()
        self._poller = PeriodicDrain("kinesis journal", self.drain, poll_seconds)

    def path(self, stream: KinesisStream) -> Path:
        return self._dir / f"kinesis-{stream.name}.jsonl"

    def reset(self) -> None:
        for stream in self._streams:
            self.path(stream).unlink(missing_ok=True)

    def restore(
        self,
        keep_after: Callable[[str], Mapping[str, int]],
        read_up_to: Callable[[str], Mapping[str, int]] = lambda stream: {},
    ) -> dict[str, int]:
        """Put back each shard's records after `keep_after(stream name)[shard]` (the lowest checkpoint on it; a
        shard missing there keeps only its last record), and rewrite the files with them; records per stream.
        `read_up_to(stream name)[shard]` (the highest checkpoint) must not be past the last record journaled: the
        shard's next records would get numbers its mappings think they have read."""
        restored = {}
        for stream in self._streams:
            path = self.path(stream)
            by_shard: dict[str, list[KinesisEntry]] = {}
            for entry in read_lines(path, _check):
                record = KinesisEntry.from_json(entry)
                by_shard.setdefault(record.shard, []).append(record)
            lowest = keep_after(stream.name)
            for shard, position in read_up_to(stream.name).items():
                last = by_shard[shard][-1].sequence_number if shard in by_shard else 0
                if position > last:
                    raise JournalError(
                        f"{path} ends at record {last} of {shard}, and a checkpoint is at {position}; move "
                        "checkpoints.json away to start the event source mappings after the journaled records, or "
                        "start with --reset"
                    )
            kept: list[KinesisEntry] = []
            for shard, records in by_shard.items():
                after = lowest.get(shard)
                shard_kept = [r for r in records[:-1] if after is not None and r.sequence_number > after]
                shard_kept.append(records[-1])  # so that the shard numbers on from it
                try:
                    restore_kinesis_shard(stream.name, self._region, shard_kept)
                except ValueError as error:
                    raise JournalError(
                        f"{path} cannot be put back ({error}); move it away, or start with --reset"
                    ) from error
                self._last[(stream.name, shard)] = records[-1].sequence_number
                kept += shard_kept
            if path.exists():
                replace_synced(path, "".join(line(record.to_json()) for record in kept))
            restored[stream.name] = len(kept)
            log.info(
                "kinesis journal restored",
                extra={
                    "stream": stream.name,
                    "records": len(kept),
                    "done_and_dropped": sum(map(len, by_shard.values())) - len(kept),
                },
            )
        return restored

    def start(self, client: KinesisClient) -> None:
        """Journal every record put from now on."""
        self._client = client
        for stream in self._streams:
            file = self.path(stream).open("a", encoding="utf-8")
            for shard in client.list_shards(StreamName=stream.name)["Shards"]:
                key = (stream.name, shard["ShardId"])
                self._shards.append(_Shard(stream.name, shard["ShardId"], file, self._last.get(key)))
        self._poller.start()

    def drain(self) -> int:
        """Append every record not yet journaled (fsynced); returns how many."""
        written = 0
        with self._lock:
            for shard in self._shards:
                top = kinesis_last_sequence_number(shard.stream, self._region, shard.shard_id)
                if top == 0 or (shard.last is not None and top <= shard.last):
                    continue  # nothing new
                lines = [line(entry.to_json()) for entry in self._read(shard)]
                append_synced(shard.file, lines)
                written += len(lines)
        return written

    def close(self) -> None:
        self._poller.stop()
        try:
            written = self.drain()
        finally:
            with self._lock:
                for file in {id(shard.file): shard.file for shard in self._shards}.values():
                    file.close()
                self._shards.clear()
        log.info("kinesis journal closed", extra={"written_on_close": written})

    def _read(self, shard: _Shard) -> list[KinesisEntry]:
        assert self._client is not None
        client, entries = self._client, []
        while True:
            if shard.iterator is None:
                request: dict[str, Any] = {"StreamName": shard.stream, "ShardId": shard.shard_id}
                if shard.last is None:
                    request["ShardIteratorType"] = "TRIM_HORIZON"
                else:
                    request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": str(shard.last)}
                shard.iterator = client.get_shard_iterator(**request)["ShardIterator"]
            try:
                response = client.get_records(ShardIterator=shard.iterator, Limit=_READ_LIMIT)
            except client.exceptions.ExpiredIteratorException:
                shard.iterator = None
                continue
            shard.iterator = response.get("NextShardIterator")
            for raw in response["Records"]:
                entry = KinesisEntry(
                    shard.shard_id,
                    int(raw["SequenceNumber"]),
                    raw["PartitionKey"],
                    _base64(raw["Data"]),
                    round(epoch_seconds(raw["ApproximateArrivalTimestamp"]), 3),
                )
                entries.append(entry)
                shard.last = entry.sequence_number
            if len(response["Records"]) < _READ_LIMIT:
                return entries


def _check(entry: dict[str, Any]) -> None:
    KinesisEntry.from_json(entry)


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
