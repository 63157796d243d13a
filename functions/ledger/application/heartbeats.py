"""The heartbeat's declaration (domain/heartbeats.py): its own aggregate type, so that no business consumer, read
model or figure ever takes a beat for one of its own events."""

from __future__ import annotations

from typing import Final

from ledger.domain.heartbeats import (
    AGGREGATE_TYPE,
    Beat,
    HeartbeatExistsError,
    HeartbeatNotFoundError,
    HeartbeatRecorded,
    RecordHeartbeat,
    decide,
    evolve,
)
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

HEARTBEAT: Final = Aggregate[RecordHeartbeat, HeartbeatRecorded, Beat](
    type=AGGREGATE_TYPE,
    events=EventCodec([EventType("HeartbeatRecorded", HeartbeatRecorded)]),
    state=StateCodec(Beat, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.beat_id,
    creation=(),
    creation_or_change=(RecordHeartbeat,),  # a firing delivered twice decides to nothing the second time
    not_found=HeartbeatNotFoundError,
    already_exists=HeartbeatExistsError,
)
