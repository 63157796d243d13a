"""The event archive as the kernel sees it: a place that holds every public event message, read back by partition
(aggregate type, UTC day), and the check that compares it with the event store.

The archive is written at least once per message (docs/archive.md): a delivery retried, a heartbeat carried by
every stream. Readers therefore take each event id once; `check` counts the copies apart and reports, per event,
what differs from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ledger.kernel.aggregate import Registry
from ledger.kernel.messages import EventMessage, message_of
from ledger.kernel.ports import EventStore
from ledger.kernel.records import EventRecord, StreamId

_PAGE = 500
_LISTED = 20  # how many of each kind of difference a report names


@dataclass(frozen=True, order=True)
class Partition:
    aggregate_type: str
    day: str  # UTC, YYYY-MM-DD


class Archive(Protocol):
    def partitions(self) -> list[Partition]:
        """Every partition that holds at least one object, oldest day first."""
        ...

    def messages(self, partition: Partition) -> Iterator[EventMessage]:
        """Every message of the partition's objects, copies included, in no particular order."""
        ...


def unique_messages(archive: Archive, partitions: Iterable[Partition]) -> Iterator[tuple[EventMessage, int]]:
    """Each event once (the first copy read), with how many copies the partitions hold, partition by partition.
    A copy is the same event id: a message's id is its event's, whichever stream or delivery carried it."""
    for partition in partitions:
        copies: dict[str, list[EventMessage]] = defaultdict(list)
        for message in archive.messages(partition):
            copies[message.event_id].append(message)
        for found in copies.values():
            yield found[0], len(found)


@dataclass
class ArchiveReport:
    """The archive against the store: every stored event (older than `since_cut`) archived once, nothing else."""

    stored: int = 0  # events in the store
    archived: int = 0  # distinct event ids in the archive
    copies: int = 0  # messages read (each event's copies counted)
    not_yet: int = 0  # stored events not archived yet but too recent to count as missing
    missing: list[str] = field(default_factory=list)  # "<type> <id> v<version> (<event id>)", up to _LISTED
    missing_count: int = 0
    extra: list[str] = field(default_factory=list)  # archived event ids the store has not
    extra_count: int = 0
    different: list[str] = field(default_factory=list)  # same event id, another message than the store's
    different_count: int = 0
    streams_with_gaps: list[str] = field(default_factory=list)  # an aggregate whose archived versions skip one
    gaps_count: int = 0

    @property
    def consistent(self) -> bool:
        return not (self.missing_count or self.extra_count or self.different_count or self.gaps_count)

    def lines(self) -> list[str]:
        duplicates = self.copies - self.archived
        lines = [
            f"store: {self.stored} events; archive: {self.archived} events ({self.copies} messages read, "
            f"{duplicates} repeated copies dropped); not archived yet (too recent): {self.not_yet}",
        ]
        for label, count, named in (
            ("missing from the archive", self.missing_count, self.missing),
            ("in the archive, not in the store", self.extra_count, self.extra),
            ("archived unlike the store", self.different_count, self.different),
            ("aggregates whose archived versions have a gap", self.gaps_count, self.streams_with_gaps),
        ):
            lines.append(f"{label}: {count}")
            lines += [f"  {item}" for item in named]
            if count > len(named):
                lines.append(f"  ... and {count - len(named)} more")
        lines.append("consistent" if self.consistent else "NOT consistent")
        return lines


def check(archive: Archive, store: EventStore, registry: Registry, *, cut: str) -> ArchiveReport:
    """Compare the archive with the store. Stored events that occurred at or after `cut` (an ISO-8601 time in the
    store's format) and are not archived are counted as not archived yet, not as missing: delivery takes up to the
    archive's buffering interval. An aggregate has a gap when a version before the cut is missing while a later one
    is archived. Reads every partition and every stream once."""
    report = ArchiveReport()
    archived: dict[str, EventMessage] = {}
    for message, copies in unique_messages(archive, archive.partitions()):
        report.copies += copies
        archived[message.event_id] = message
    report.archived = len(archived)
    seen: set[str] = set()
    for aggregate_type in registry.types:
        for aggregate_id in store.aggregate_ids(aggregate_type):
            missing_versions: list[int] = []
            held: set[int] = set()
            for record in _events(store, StreamId(aggregate_type, aggregate_id)):
                report.stored += 1
                seen.add(record.event_id)
                label = f"{aggregate_type} {aggregate_id} v{record.version} ({record.event_id})"
                found = archived.get(record.event_id)
                if found is None and record.occurred_at >= cut:
                    report.not_yet += 1
                elif found is None:
                    _note(report.missing, label)
                    report.missing_count += 1
                    missing_versions.append(record.version)
                else:
                    held.add(record.version)
                    if found != message_of(record, registry):
                        _note(report.different, label)
                        report.different_count += 1
            if held and any(version < max(held) for version in missing_versions):
                _note(report.streams_with_gaps, f"{aggregate_type} {aggregate_id}: archived {_ranges(held)}")
                report.gaps_count += 1
    for event_id in sorted(archived.keys() - seen):
        _note(report.extra, event_id)
        report.extra_count += 1
    return report


def _events(store: EventStore, stream: StreamId) -> Iterator[EventRecord]:
    after = 0
    while True:
        page = store.read_forward(stream, after=after, limit=_PAGE)
        if not page:
            return
        yield from page
        after = page[-1].version


def _note(named: list[str], item: str) -> None:
    if len(named) < _LISTED:
        named.append(item)


def _ranges(versions: set[int]) -> str:
    """e.g. {1, 2, 3, 5} -> "v1-3, v5"."""
    ordered = sorted(versions)
    runs: list[tuple[int, int]] = []
    for version in ordered:
        if runs and version == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], version)
        else:
            runs.append((version, version))
    return ", ".join(f"v{a}" if a == b else f"v{a}-{b}" for a, b in runs)
