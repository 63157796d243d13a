"""Local data that survives a restart: each durable table's writes, appended to `<data-dir>/<table id>.jsonl`.

How it works:
- On start, the tables are created without streams and every journal is put back into moto: its lines in order
  (a later write of a key wins, a delete removes it), minus the records whose TTL attribute has passed (DynamoDB
  would have expired them). Then each durable table's stream is turned on (NEW_IMAGE; the idempotency table has no
  stream in the deployed topology, so its local copy gets one for this purpose only) and numbered on from the last
  record journaled, so sequence numbers keep growing across restarts as in DynamoDB. The records some event source
  mapping has not finished (after the lowest checkpoint on the stream, local/checkpoints.py) are put back at the
  head of the stream with their sequence numbers (local/moto_streams.py): the mappings resume from where they
  stopped, while the reload itself is not replayed as new writes.
- The journal drains the streams into the files (one JSON object a line, DynamoDB JSON as on the wire, with the
  record's sequence number, event name, id and time) and fsyncs them: after every request that may write, before
  its response is sent (the gateway calls `drain`), before every checkpoint is written, every second for writes
  made by other clients (`aws --endpoint-url ...`), and on shutdown. It reads the streams in process
  (`MotoServer.stream_records`, which says why not through the Streams API).
- A line torn by a crash (no newline at the end of the file) is cut off on start; any other unreadable line stops the
  start with a message, rather than losing data silently.
- `--reset` deletes the journals. A lock file keeps two runtimes from sharing one data directory.
"""

from __future__ import annotations

import base64
import fcntl
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from infra.topology import Table
from local.dynamodb_streams import StreamCursor, StreamSource, wire_json
from local.files import JournalError, PeriodicDrain, append_synced, read_lines
from local.files import line as json_line
from local.logs import log
from local.moto_streams import restore_dynamodb_stream
from local.resources import enable_stream, local_stream_view
from local.stream_events import epoch_seconds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DataDirInUseError", "Journal", "JournalError"]

_BATCH = 25  # BatchWriteItem's limit


class DataDirInUseError(RuntimeError):
    pass


@dataclass
class _Stream:
    table: Table
    file: IO[str]
    cursor: StreamCursor  # at the last record written


@dataclass
class _Reloaded:
    """What a table's journal says about its stream: the last sequence number, and the entries to put back on it."""

    last: int | None = None
    replay: list[dict[str, Any]] = field(default_factory=list)


class Journal:
    def __init__(
        self,
        data_dir: Path,
        tables: tuple[Table, ...],
        dynamodb: DynamoDBClient,
        source: StreamSource,
        region: str,
        *,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 1.0,
    ) -> None:
        self._dir = data_dir
        self._tables = tuple(t for t in tables if t.durable_locally)
        self._dynamodb = dynamodb
        self._source = source
        self._region = region
        self._clock = clock
        self._streams: list[_Stream] = []
        self._reloaded: dict[str, _Reloaded] = {}
        self._lock = threading.Lock()
        self._poller = PeriodicDrain("journal", self.drain, poll_seconds)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self._dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock_file.close()
            raise DataDirInUseError(f"another local runtime is using {self._dir}") from error

    def path(self, table: Table) -> Path:
        return self._dir / f"{table.id}.jsonl"

    def reset(self) -> None:
        for table in self._tables:
            self.path(table).unlink(missing_ok=True)
        log.info("journal reset", extra={"data_dir": str(self._dir)})

    # --- start: reload, then journal from the streams -------------------------------------------------------

    def restore(self, replay_after: Mapping[str, int] | None = None) -> dict[str, int]:
        """Put every journaled item back into its (stream-less, empty) table; returns items per table id.

        `replay_after` (table name -> sequence number: the lowest checkpoint of the mappings reading its stream)
        says which records `start` puts back on each stream: those after it. Tables not named get none."""
        restored = {}
        for table in self._tables:
            reloaded = self._reloaded[table.id] = _Reloaded()
            after = (replay_after or {}).get(table.local_name)
            items, expired = _live_items(table, _tracked(self._read(table), reloaded, after), now=self._clock())
            for start in range(0, len(items), _BATCH):
                self._batch_put(table, items[start : start + _BATCH])
            restored[table.id] = len(items)
            log.info(
                "journal restored",
                extra={
                    "table": table.local_name,
                    "items": len(items),
                    "expired": expired,
                    "stream_records_put_back": len(reloaded.replay),
                },
            )
        return restored

    def start(self, numbered_after: Mapping[str, int] | None = None) -> None:
        """Turn the durable tables' streams on, numbered on from the last record journaled (and from
        `numbered_after`, table name -> the highest checkpoint on its stream), with the records `restore` chose put
        back at their head; journal what they carry from now on."""
        for table in self._tables:
            enable_stream(self._dynamodb, table)
            reloaded = self._reloaded.get(table.id, _Reloaded())
            last = max(
                (n for n in (reloaded.last, (numbered_after or {}).get(table.local_name)) if n is not None),
                default=None,
            )
            if last is not None:
                records = [self._stream_record(table, entry) for entry in reloaded.replay]
                try:
                    restore_dynamodb_stream(table.local_name, self._region, records, last + 1)
                except ValueError as error:
                    raise JournalError(
                        f"{self.path(table)} and the checkpoints disagree ({error}); move checkpoints.json away to "
                        "start the event source mappings after the journaled records, or start with --reset"
                    ) from error
            cursor = StreamCursor(self._source, table.local_name, self._region, None if last is None else str(last))
            self._streams.append(_Stream(table, self.path(table).open("a", encoding="utf-8"), cursor))
        self._poller.start()

    def _stream_record(self, table: Table, entry: Mapping[str, Any]) -> dict[str, Any]:
        """A journaled write as moto's stream holds it (GetRecords' shape; wire JSON images)."""
        keys = [table.partition_key.name, *([table.sort_key.name] if table.sort_key else [])]
        item = entry.get("item") or {}
        view = local_stream_view(table) or "KEYS_ONLY"
        change: dict[str, Any] = {
            "StreamViewType": view,
            "ApproximateCreationDateTime": datetime.fromtimestamp(entry.get("at") or self._clock(), UTC).replace(
                tzinfo=None
            ),
            "SequenceNumber": entry["seq"],
            "SizeBytes": 0,
            "Keys": entry.get("key") or {name: item[name] for name in keys if name in item},
        }
        if entry["op"] == "put" and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            change["NewImage"] = item
        change["SizeBytes"] = len(json.dumps({k: v for k, v in change.items() if k != "ApproximateCreationDateTime"}))
        return {
            "eventID": entry.get("id") or uuid.uuid4().hex,
            "eventName": entry.get("name") or ("INSERT" if entry["op"] == "put" else "REMOVE"),
            "eventSource": "aws:dynamodb",
            "eventVersion": "1.0",
            "awsRegion": self._region,
            "dynamodb": change,
        }

    # --- running ---------------------------------------------------------------------------------------------

    def drain(self) -> int:
        """Write every stream record not yet journaled to disk (fsynced); returns how many were written."""
        written = 0
        with self._lock:
            for stream in self._streams:
                lines = [_line(record) for record in stream.cursor.next()]
                append_synced(stream.file, lines)
                written += len(lines)
        return written

    def close(self) -> None:
        self._poller.stop()
        written = self.drain()
        with self._lock:
            for stream in self._streams:
                stream.file.close()
            self._streams.clear()
        self._lock_file.close()
        log.info("journal closed", extra={"written_on_close": written})

    # --- reading back ----------------------------------------------------------------------------------------

    def _read(self, table: Table) -> Iterator[dict[str, Any]]:
        return read_lines(self.path(table), _check)

    def _batch_put(self, table: Table, items: list[dict[str, Any]]) -> None:
        requests: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in items]
        while requests:
            response = self._dynamodb.batch_write_item(RequestItems=cast(Any, {table.local_name: requests}))
            requests = cast(list[dict[str, Any]], response.get("UnprocessedItems", {}).get(table.local_name, []))


def _check(entry: dict[str, Any]) -> None:
    if entry["op"] not in ("put", "delete"):
        raise ValueError(f"unknown op {entry['op']!r}")


def _tracked(entries: Iterator[dict[str, Any]], reloaded: _Reloaded, after: int | None) -> Iterator[dict[str, Any]]:
    """`entries`, noting the highest sequence number and keeping those after `after` for the stream."""
    for entry in entries:
        seq = entry.get("seq")
        if isinstance(seq, str) and seq.isdigit():
            number = int(seq)
            reloaded.last = number if reloaded.last is None else max(reloaded.last, number)
            if after is not None and number > after:
                reloaded.replay.append(entry)
        yield entry


def _live_items(table: Table, entries: Iterator[dict[str, Any]], *, now: float) -> tuple[list[dict[str, Any]], int]:
    """The table's items after replaying `entries` in order, without those whose TTL has passed."""
    keys = [table.partition_key.name, *([table.sort_key.name] if table.sort_key else [])]
    items: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = json.dumps([entry.get("key", entry.get("item", {})).get(name) for name in keys], sort_keys=True)
        if entry["op"] == "put":
            items[key] = _from_json(entry["item"])
        else:
            items.pop(key, None)
    live = [item for item in items.values() if not _expired(table, item, now)]
    return live, len(items) - len(live)


def _expired(table: Table, item: Mapping[str, Any], now: float) -> bool:
    ttl = item.get(table.ttl_attribute or "", {}).get("N")
    try:
        return ttl is not None and float(ttl) < now
    except ValueError:
        return False  # DynamoDB ignores a TTL attribute that is not a number of seconds


def _line(record: Mapping[str, Any]) -> str:
    change = record["dynamodb"]
    if record["eventName"] == "REMOVE":
        entry: dict[str, Any] = {"op": "delete", "key": wire_json(change["Keys"])}
    else:
        entry = {"op": "put", "item": wire_json(change["NewImage"])}
    entry |= {
        "seq": change["SequenceNumber"],
        "name": record["eventName"],
        "id": record["eventID"],
        "at": round(epoch_seconds(change["ApproximateCreationDateTime"]), 3),
    }
    return json_line(entry)


def _from_json(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _attribute(value) for name, value in item.items()}


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(content)}
    if kind == "BS":
        return {"BS": [base64.b64decode(element) for element in content]}
    if kind == "M":
        return {"M": _from_json(content)}
    if kind == "L":
        return {"L": [_attribute(element) for element in content]}
    return {kind: content}
