"""The pipeline's heartbeat: a beat a schedule records every few minutes, so that every stream consumer sees a record
however quiet the business is, and an alarm can tell a consumer that hears nothing from one that has nothing to do.

Each beat is an aggregate of its own, named after the time the schedule fired for it: a schedule that delivers the
same firing twice (EventBridge invokes at least once) records the beat once. Beats never touch a business read
model, figure, alert or notification: the consumers recognise them and only note that they arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.domain.errors import Category, DomainError

AGGREGATE_TYPE: Final = "Heartbeat"  # its own: no business consumer ever takes a beat for one of its events


@dataclass(frozen=True)
class RecordHeartbeat:
    beat_id: str  # the scheduled time, e.g. 2026-11-26T08:30:00Z
    scheduled_at: str


@dataclass(frozen=True)
class HeartbeatRecorded:
    beat_id: str
    scheduled_at: str


@dataclass(frozen=True)
class Beat:
    beat_id: str
    scheduled_at: str
    version: int
    recorded_at: str


class HeartbeatNotFoundError(DomainError):
    code = "heartbeat_not_found"
    category = Category.NOT_FOUND


class HeartbeatExistsError(DomainError):
    code = "heartbeat_exists"
    category = Category.CONFLICT


def decide(state: Beat | None, command: RecordHeartbeat) -> list[HeartbeatRecorded]:
    if state is not None:
        return []  # this firing was recorded already
    return [HeartbeatRecorded(command.beat_id, command.scheduled_at)]


def evolve(state: Beat | None, event: HeartbeatRecorded, version: int, occurred_at: str) -> Beat:
    return Beat(event.beat_id, event.scheduled_at, version, occurred_at)
