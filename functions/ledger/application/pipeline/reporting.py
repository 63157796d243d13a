"""Daily reports from public event messages: each event adds its contribution to its account's day and to the whole
day, once (the store remembers which event ids it has added)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ledger.application.messages import EventMessage
from ledger.application.ports import ReportStore
from ledger.domain.accounts import AGGREGATE_TYPE, EVENT_TYPES
from ledger.domain.reports import DailyTotals, ReportKey, contribution, report_keys


def contributions_of(message: EventMessage) -> list[tuple[str, ReportKey, DailyTotals]] | None:
    """What the event adds to which report; None when it is not an account event this report knows."""
    if message.aggregate_type != AGGREGATE_TYPE or message.type not in EVENT_TYPES:
        return None
    totals = contribution(message.type, dict(message.data))
    if totals is None:  # a known event that moves no total (AccountClosed)
        return []
    day = date.fromisoformat(message.day)
    return [(message.event_id, key, totals) for key in report_keys(day, message.aggregate_id)]


@dataclass
class Reporter:
    store: ReportStore

    def add(self, messages: Sequence[EventMessage]) -> tuple[int, int]:
        """Add the messages' contributions; returns (events counted now, events skipped as not reportable)."""
        contributions: list[tuple[str, ReportKey, DailyTotals]] = []
        skipped = 0
        seen: set[str] = set()
        for message in messages:
            if message.event_id in seen:  # delivered twice within one batch (a producer's retry)
                continue
            seen.add(message.event_id)
            found = contributions_of(message)
            if found is None:
                skipped += 1
            else:
                contributions.extend(found)
        return self.store.add(contributions), skipped
