"""Where each event source mapping stopped, per shard: Lambda's checkpoint, kept in `<data-dir>/checkpoints.json` so
that a restart (after Ctrl-C, SIGTERM or SIGKILL) resumes every mapping after the last record it finished.

A position is the sequence number of the last record the mapping is done with on that shard (delivered and answered,
filtered out, or given up); everything up to it is done. Positions only move forward.

Exactness (nothing lost, duplicates allowed): a position is written only after everything the invocations before it
wrote is on disk. `advance` records the new position, then `commit` runs the `before_commit` drains (the table
journal, the Kinesis journal: whatever is in moto now, which includes every write of an invocation that has
returned) and only then replaces the file (fsynced). So after any crash the file's positions are at or behind what
was done, and every record after them, and every record they led to, is in a journal. Commits are grouped: a thread
whose position a concurrent commit already wrote does not write again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from local.files import JournalError, replace_synced

CHECKPOINTS_FILE: Final = "checkpoints.json"
_VERSION: Final = 1


class Checkpoints:
    def __init__(self, path: Path, *, before_commit: Iterable[Callable[[], object]] = ()) -> None:
        self.path = path
        self.before_commit = list(before_commit)  # run before every write: the journals' drains
        self._positions: dict[str, dict[str, Any]] = {}  # mapping -> {"source": name, "shards": {shard: position}}
        self._state = threading.Lock()  # guards _positions and _version
        self._writing = threading.Lock()  # one commit at a time
        self._version = 0  # bumped by each change
        self._written = 0  # the version on disk
        self._closed = False

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)

    def load(self, mappings: Mapping[str, str] | None = None) -> None:
        """Read the file (none: no positions yet). With `mappings` (name -> source name), positions of mappings
        that are no longer in the topology are dropped, so they hold no stream back."""
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            positions = document["mappings"]
            if document.get("version") != _VERSION or not isinstance(positions, dict):
                raise ValueError(f"unknown version {document.get('version')!r}")
            for entry in positions.values():
                if not isinstance(entry["source"], str) or not all(
                    isinstance(value, str) and value.isdigit() for value in entry["shards"].values()
                ):
                    raise ValueError(f"not a position entry: {entry!r}")
        except FileNotFoundError:
            positions = {}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise JournalError(
                f"{self.path} cannot be read ({error}); move it away to start every event source mapping after the "
                "journaled records, or start with --reset"
            ) from error
        with self._state:
            self._positions = {
                name: {"source": entry["source"], "shards": dict(entry["shards"])}
                for name, entry in positions.items()
                if mappings is None or mappings.get(name) == entry["source"]
            }

    # --- reading -------------------------------------------------------------------------------------------------

    def position(self, mapping: str, shard: str) -> str | None:
        """Where `mapping` stopped on `shard`; None if it never ran there."""
        with self._state:
            position: str | None = self._positions.get(mapping, {}).get("shards", {}).get(shard)
            return position

    def low_water(self, source: str) -> dict[str, int]:
        """Per shard of `source` (a stream or table stream name), the lowest position of the mappings reading it:
        the records after it are not yet done by every mapping. Shards no mapping has a position on are absent."""
        return self._fold(source, min)

    def high_water(self, source: str) -> dict[str, int]:
        """Per shard of `source`, the highest position of its mappings."""
        return self._fold(source, max)

    def _fold(self, source: str, pick: Callable[[int, int], int]) -> dict[str, int]:
        folded: dict[str, int] = {}
        with self._state:
            for entry in self._positions.values():
                if entry["source"] != source:
                    continue
                for shard, position in entry["shards"].items():
                    folded[shard] = pick(folded[shard], int(position)) if shard in folded else int(position)
        return folded

    # --- moving on -----------------------------------------------------------------------------------------------

    def record(self, mapping: str, source: str, shard: str, position: str) -> None:
        """Set `mapping`'s position on `shard` (in memory; `commit` writes it)."""
        with self._state:
            entry = self._positions.setdefault(mapping, {"source": source, "shards": {}})
            entry["source"] = source
            if entry["shards"].get(shard) != position:
                entry["shards"][shard] = position
                self._version += 1

    def close(self) -> None:
        """Write what is recorded, then nothing more: the journals close next, and a position written after them
        could be ahead of records they no longer journal (an invocation that outlived the stop)."""
        self.commit()
        with self._writing:
            self._closed = True

    def advance(self, mapping: str, source: str, shard: str, position: str) -> None:
        """Record the position and commit it: on disk when this returns."""
        self.record(mapping, source, shard, position)
        self.commit()

    def commit(self) -> None:
        """Drain the journals, then write every position recorded so far (unless a commit already has)."""
        with self._state:
            wanted = self._version
        with self._writing:
            if self._written >= wanted or self._closed:
                return
            with self._state:  # the positions as of now: every invocation before them has returned
                version = self._version
                text = json.dumps({"version": _VERSION, "mappings": self._positions}, indent=1, sort_keys=True)
            for drain in self.before_commit:
                drain()
            replace_synced(self.path, text + "\n")
            self._written = version
