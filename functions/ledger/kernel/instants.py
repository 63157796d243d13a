"""Instants as the store writes them: UTC ISO-8601 with milliseconds and a Z, which sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def to_iso_ms(instant: datetime) -> str:
    """2026-11-26T08:31:59.123Z; sub-millisecond digits are dropped (floor), never rounded up."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    utc = instant.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000).isoformat(timespec="milliseconds")[:-6] + "Z"


def not_before(instant: datetime, previous_iso: str | None) -> datetime:
    """`instant`, or the previous event's instant when the clock reads earlier (clocks of concurrent writers
    differ), so occurred_at never decreases along a stream and a temporal query can search it by time."""
    if previous_iso is None:
        return instant
    previous = datetime.fromisoformat(previous_iso)
    return max(instant, previous)


def epoch_seconds(instant: datetime, plus: timedelta = timedelta(0)) -> int:
    return int((instant + plus).timestamp())
