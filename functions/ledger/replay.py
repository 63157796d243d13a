"""Replay history into read models: `python -m ledger.replay reports sales ...` (or `all`), from the event archive.

Reads the archive day by day (each event once), then the event table for what the archive does not hold yet (one
aggregate at a time: its events after the newest archived one, and the aggregates the event streams' last hour
names), and feeds each read model its events in per-aggregate order, with the rules its live consumer applies. It
shows a progress bar and ends with how many events came from where and at what rate.

Whole (the default), a read model is reset first and rebuilt from the first event ever written. `--from DAY` replays
the events that occurred from that UTC day on into the read model as it is, without a reset: for a model that is
new or lacks those days. Only models that stay exact that way take it: those that apply each event on its own (the
state models: accounts, orders, stock), and within the days they remember what they applied (reports: 30 days).
Models whose rules need each aggregate's whole history (alerts, sales) are replayed whole.

It reads the functions' environment variables (EVENT_TABLE_NAME, ARCHIVE_BUCKET_NAME, EVENT_STREAMS and the read
models' tables): locally `make replay` sets them for a running `make run`; against AWS, export the stack's outputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO

from ledger import bootstrap
from ledger.adapters.kinesis_recent import RecentStreams
from ledger.kernel.archive import Partition
from ledger.kernel.components import Component, Root, SettingsError
from ledger.kernel.history import ArchiveHistory
from ledger.kernel.projections import Projection, rebuild_from
from ledger.projections import PROJECTIONS


class ReplayRefusedError(ValueError):
    """The replay asked for would not leave the read model exact: nothing was written."""


class Progress:
    """A progress line on a terminal (rewritten in place at most 5 times a second), and the totals at the end."""

    def __init__(self, out: IO[str], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._out, self._clock = out, clock
        self.started = clock()
        self.events: Counter[str] = Counter()
        self._partition = (0, 0, "")
        self._shown = 0.0

    def event(self, source: str) -> None:
        self.events[source] += 1
        self._show()

    def partition(self, index: int, total: int, partition: Partition) -> None:
        self._partition = (index, total, f"{partition.day} {partition.aggregate_type}")
        self._show(force=True)

    def rate(self) -> float:
        return sum(self.events.values()) / max(self._clock() - self.started, 1e-9)

    def _show(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._shown < 0.2:
            return
        self._shown = now
        index, total, label = self._partition
        filled = round(20 * index / total) if total else 20
        bar = "#" * filled + "." * (20 - filled)
        self._out.write(
            f"\r[{bar}] {index}/{total} partitions ({label}) {sum(self.events.values()):,} events, "
            f"{self.rate():,.0f}/s   "
        )
        self._out.flush()


def replay(
    names: Sequence[str],
    *,
    since: str | None = None,
    root: Root | None = None,
    projections: Mapping[str, Component[Projection]] = PROJECTIONS,
    progress: Progress | None = None,
    today: date | None = None,
) -> dict[str, int]:
    """Replay the archive (and the event table's newer events) into each named read model; rows (or events
    counted) each got. Raises ReplayRefusedError, writing nothing, for a `since` a model cannot take."""
    unknown = set(names) - set(projections)
    if unknown:
        raise ValueError(f"unknown read model(s) {sorted(unknown)}; choose from {', '.join(projections)}")
    root = root or bootstrap.root()
    chosen = {name: projections[name] for name in names}
    root.start(bootstrap.EVENT_STORE, bootstrap.ARCHIVE, bootstrap.KINESIS, bootstrap.EVENT_STREAMS, *chosen.values())
    built = {name: root.get(component) for name, component in chosen.items()}
    if since is not None:
        _check_partial(built, since, today or datetime.now(UTC).date())
    streams = [name for names_ in root.get(bootstrap.EVENT_STREAMS).values() for name in names_]
    history = ArchiveHistory(
        root.get(bootstrap.ARCHIVE),
        root.get(bootstrap.EVENT_STORE),
        root.get(bootstrap.REGISTRY),
        since=since,
        recent=RecentStreams(root.get(bootstrap.KINESIS), streams),
        on_event=progress.event if progress else lambda source: None,
        on_partition=progress.partition if progress else lambda index, total, partition: None,
    )
    return rebuild_from(built, history, reset=since is None)


def _check_partial(projections: Mapping[str, Projection], since: str, today: date) -> None:
    try:
        first = date.fromisoformat(since)
    except ValueError:
        raise ReplayRefusedError(f"--from must be a day, YYYY-MM-DD, not {since!r}") from None
    for name, projection in projections.items():
        days = projection.partial_replay_days
        if days == 0:
            raise ReplayRefusedError(
                f"{name} needs each aggregate's whole history (its rules look at earlier events): replay it whole, "
                "without --from"
            )
        if days is not None and first < today - timedelta(days=days):
            raise ReplayRefusedError(
                f"{name} remembers the events it applied for {days} days: from {since} it would apply older ones "
                f"again. Replay it whole, or from {today - timedelta(days=days)} on"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("projections", nargs="+", choices=(*PROJECTIONS, "all"), help="the read models to replay into")
    parser.add_argument("--from", dest="since", metavar="DAY", help="the first UTC day to replay (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    names = tuple(PROJECTIONS) if "all" in args.projections else tuple(dict.fromkeys(args.projections))
    progress = Progress(sys.stderr)
    try:
        counts = replay(names, since=args.since, progress=progress)
    except SettingsError as error:
        parser.exit(
            2,
            f"{parser.prog}: the environment is incomplete: {error}\n"
            "  Locally, `make replay` sets every variable for a running `make run`; against AWS, export the stack's "
            "outputs (the tables', the archive bucket's and the streams' names) and the topology's settings.\n",
        )
    except ReplayRefusedError as error:
        parser.exit(2, f"{parser.prog}: refused, nothing written: {error}\n")
    seconds = time.monotonic() - progress.started
    sys.stderr.write("\n")
    events = progress.events
    print(  # noqa: T201 - a command-line tool
        f"{sum(events.values())} events ({events['archive']} from the archive, {events['store']} from the event "
        f"table) in {seconds:.1f} s, {progress.rate():,.0f} events/s; "
        + ", ".join(f"{name}: {count}" for name, count in counts.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
