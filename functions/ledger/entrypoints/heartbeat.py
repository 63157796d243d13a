"""The heartbeat: the schedule (an EventBridge rule every few minutes; the local runtime's own timer) -> one beat
recorded in the event store, named after the time the schedule fired, so a firing delivered twice records one beat.
From there the beat travels the pipeline's real path to every consumer, which notes it (docs/pipeline.md,
"Heartbeat")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.heartbeats import HEARTBEAT
from ledger.domain.heartbeats import RecordHeartbeat
from ledger.kernel.service import CommandContext

logger = Logger()
HEARTBEATS = bootstrap.command_service(HEARTBEAT)
bootstrap.start(HEARTBEATS)


def beat_of(event: dict[str, Any]) -> RecordHeartbeat:
    """The beat of a scheduled event: EventBridge's `time` (when the schedule fired, to the second, in UTC)."""
    raw = event.get("time")
    try:
        fired = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ValueError(f"not a scheduled event: its time is {raw!r}") from None
    if fired.tzinfo is None:
        raise ValueError(f"not a scheduled event: its time {raw!r} has no time zone")
    stamp = fired.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return RecordHeartbeat(beat_id=stamp, scheduled_at=stamp)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    command = beat_of(event)
    firing = str(event.get("id") or command.beat_id)  # EventBridge's id of this firing
    outcome = bootstrap.get(HEARTBEATS).execute(command, CommandContext(correlation_id=firing, causation_id=firing))
    logger.info(
        "heartbeat recorded" if outcome.created else "heartbeat already recorded",
        extra={"beat_id": command.beat_id, "version": outcome.version},
    )
    return {"beat_id": command.beat_id, "recorded": outcome.created}
