"""Daily reports from account events: each event adds its contribution to its account's day and to the whole day,
once (the store remembers which event ids it has added)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.application.accounts import ACCOUNT
from ledger.application.ports import COUNTED_EVENTS_DAYS, ReportStore
from ledger.domain.reports import DailyTotals, ReportKey, contribution, report_keys
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.records import StreamId


def contributions_of(event: RecordedEvent[Any]) -> list[tuple[str, ReportKey, DailyTotals]] | None:
    """What the event adds to which report; None when it is not an account event (not reported here)."""
    if event.record.aggregate_type != ACCOUNT.type:
        return None
    totals = contribution(event.event)
    if totals is None:  # an account event that moves no total (AccountClosed)
        return []
    day = date.fromisoformat(event.occurred_at[:10])
    return [(event.event_id, key, totals) for key in report_keys(day, event.aggregate_id)]


@dataclass
class Reporter:
    store: ReportStore

    def add(self, events: Iterable[RecordedEvent[Any]]) -> tuple[int, int]:
        """Add the events' contributions; returns (events counted now, events skipped as not reportable)."""
        contributions: list[tuple[str, ReportKey, DailyTotals]] = []
        skipped = 0
        seen: set[str] = set()
        for event in events:
            if event.event_id in seen:  # delivered twice within one batch (a producer's retry)
                continue
            seen.add(event.event_id)
            found = contributions_of(event)
            if found is None:
                skipped += 1
            else:
                contributions.extend(found)
        return self.store.add(contributions), skipped


@dataclass
class ReportsProjection:
    """The reports read model rebuilt from the event store with the consumer's own rules."""

    reporter: Reporter

    @property
    def reads_events(self) -> bool:
        return True

    @property
    def partial_replay_days(self) -> int | None:
        return COUNTED_EVENTS_DAYS  # how long it remembers the events it counted

    @property
    def aggregate_types(self) -> frozenset[str]:
        return frozenset({ACCOUNT.type})

    def reset(self) -> int:
        return self.reporter.store.clear()

    def replay(self, stream: StreamId) -> _ReportsReplay:
        return _ReportsReplay(self.reporter)

    def complete(self) -> int:
        return 0


@dataclass
class _ReportsReplay:
    reporter: Reporter
    counted: int = 0
    reads_events: bool = True

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        self.counted += self.reporter.add(page)[0]

    def finish(self) -> int:
        return self.counted
