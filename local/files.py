"""The data directory's files, written so that a crash (SIGKILL, power cut) leaves them readable: JSON lines appended
and fsynced (a line torn by a crash mid-write is cut off on the next read) and small files replaced whole (written
aside, fsynced, renamed over the old one)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from local.logs import log


class JournalError(RuntimeError):
    """A file of the data directory cannot be read back (the runtime refuses to start rather than lose data)."""


def read_lines(path: Path, check: Callable[[dict[str, Any]], None] = lambda entry: None) -> Iterator[dict[str, Any]]:
    """The JSON objects of `path`, one a line, in order (none if it does not exist). A torn last line (no newline at
    the end) is cut off the file; any other line that is not an object `check` accepts (it raises KeyError, ValueError
    or TypeError otherwise) raises JournalError naming the file and line."""
    if not path.exists():
        return
    with path.open("r+b") as file:
        content = file.read()
        complete = content.rfind(b"\n") + 1
        if complete < len(content):
            log.warning(
                "journal ends with a torn line (a crash mid-write); cutting it off",
                extra={"file": str(path), "bytes": len(content) - complete},
            )
            file.truncate(complete)
    for number, line in enumerate(content[:complete].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise TypeError("not a JSON object")
            check(entry)
        except (ValueError, KeyError, TypeError) as error:
            raise JournalError(
                f"{path}:{number} is not a journal line ({error}); repair or move the file, or start with --reset"
            ) from error
        yield entry


def line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":")) + "\n"


def append_synced(file: IO[str], lines: Sequence[str]) -> None:
    """Append `lines` and fsync: on disk when this returns."""
    if lines:
        file.write("".join(lines))
        file.flush()
        os.fsync(file.fileno())


def replace_synced(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically and durably: a crash leaves the old content or the new, never a mix."""
    replace_synced_bytes(path, text.encode("utf-8"))


def replace_synced_bytes(path: Path, content: bytes) -> None:
    """`replace_synced` for bytes."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself, so that the file is there after a power cut
    finally:
        os.close(directory)


class PeriodicDrain:
    """A daemon thread that calls `drain` every `seconds` until stopped (a failed drain is logged, and the next one
    tries again): how a journal keeps up with what moto holds between the drains its callers ask for."""

    def __init__(self, name: str, drain: Callable[[], object], seconds: float) -> None:
        self._name = name
        self._drain = drain
        self._seconds = seconds
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No drain after this returns (the one in flight, if any, is waited for up to 5 s)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                self._drain()
            except Exception:
                log.exception(f"{self._name} drain failed")
