"""The pipeline's heartbeat on this machine (docs/local-runtime.md, "The heartbeat"): the schedule that fires it, and
the board of what each consumer noted of it, which the status shows.

- `HeartbeatSchedule` is the EventBridge rule: every `interval_seconds` (the topology's rate unless told otherwise)
  a thread of the runtime invokes the heartbeat function with a scheduled event in EventBridge's shape, the first
  time one interval after the start, as a rate schedule does. The beat goes through the event source mappings like
  any event.
- `HeartbeatBoard` is what CloudWatch makes of the consumers' logs: each invocation's embedded-metric documents
  (local/worker.py sends them back with its answer) that carry the heartbeat's metric give, per consumer and source,
  when it last noted a beat. A mapping is overdue when it noted none for `missed_beats` intervals (counted from the
  start when it never did), plus the pipeline's own delay: what the deployed heartbeat alarm says after as many
  periods without data.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from infra.model import Heartbeat
from local.environment import LOCAL_ACCOUNT_ID
from local.lambdas import FunctionError
from local.logs import log

RULE_NAME: Final = "ledger-heartbeat"
# How late a beat may reach the last consumer of its path: the batching windows and polls along the longest one
# (publisher, a Kinesis poll, reporting's 5 s window; or fraud's window, another poll and the alerts' window) come to
# about 8 s. A 5-minute period hides that deployed; a beat every few seconds locally would not.
PIPELINE_DELAY_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Noted:
    last_at: float  # epoch seconds
    beats: int  # noted since the runtime started


class HeartbeatBoard:
    def __init__(self, heartbeat: Heartbeat, interval_seconds: float, *, now: Callable[[], float] = time.time) -> None:
        self.heartbeat = heartbeat
        self.interval_seconds = interval_seconds
        self._now = now
        self.started_at = now()
        self._noted: dict[tuple[str, str], Noted] = {}
        self._lock = threading.Lock()

    @property
    def overdue_after_seconds(self) -> float:
        return self.interval_seconds * self.heartbeat.missed_beats + PIPELINE_DELAY_SECONDS

    def record(self, documents: Iterable[dict[str, Any]]) -> None:
        """Take note of the heartbeat metrics among an invocation's embedded-metric documents."""
        for document in documents:
            beats = self._beats(document)
            if not beats:
                continue
            key = (str(document.get("Consumer")), str(document.get("Source")))
            with self._lock:
                before = self._noted.get(key)
                self._noted[key] = Noted(self._now(), (before.beats if before else 0) + beats)

    def _beats(self, document: dict[str, Any]) -> int:
        heartbeat = self.heartbeat
        directives = document.get("_aws", {}).get("CloudWatchMetrics", [])
        if not any(
            d.get("Namespace") == heartbeat.namespace
            and any(m.get("Name") == heartbeat.metric for m in d.get("Metrics", []))
            for d in directives
        ):
            return 0
        value = document.get(heartbeat.metric, 0)
        values = value if isinstance(value, list) else [value]
        return int(sum(v for v in values if isinstance(v, int | float)))

    def status(self, mappings: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
        """Per (mapping name, consumer, source name): when it last noted a beat, how many, whether it is overdue."""
        now = self._now()
        rows = []
        with self._lock:
            noted = dict(self._noted)
        for mapping, consumer, source in mappings:
            seen = noted.get((consumer, source))
            since = now - (seen.last_at if seen else self.started_at)
            rows.append(
                {
                    "mapping": mapping,
                    "consumer": consumer,
                    "source": source,
                    "last_at": seen.last_at if seen else None,
                    "beats": seen.beats if seen else 0,
                    "overdue": since > self.overdue_after_seconds,
                }
            )
        return {
            "every_seconds": self.interval_seconds,
            "overdue_after_seconds": self.overdue_after_seconds,
            "started_at": self.started_at,
            "mappings": rows,
        }


Invoke = Callable[[dict[str, Any], str], Any]


class HeartbeatSchedule:
    def __init__(self, invoke: Invoke, interval_seconds: float, *, region: str) -> None:
        self._invoke = invoke
        self.interval_seconds = interval_seconds
        self._region = region
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat schedule", daemon=True)
        self._thread.start()
        log.info("heartbeat schedule started", extra={"every_seconds": self.interval_seconds})

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)  # a firing may be waiting for its invocation

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(max(0.0, started + (self.fired + 1) * self.interval_seconds - time.monotonic())):
            self.fire()

    def fire(self, at: datetime | None = None) -> Any:
        """Invoke the heartbeat function as EventBridge does for one firing; its answer (None when it failed)."""
        self.fired += 1
        event = scheduled_event(at or datetime.now(UTC), self._region)
        try:
            return self._invoke(event, str(uuid.uuid4()))
        except FunctionError as error:  # EventBridge would retry it; the next firing comes anyway
            log.warning("heartbeat failed", extra={"error": str(error), "time": event["time"]})
        except Exception:  # the runtime stopping under it, or a bug: say so, keep the schedule
            log.exception("heartbeat failed", extra={"time": event["time"]})
        return None


def scheduled_event(at: datetime, region: str) -> dict[str, Any]:
    """EventBridge's event for a firing of a scheduled rule at `at` (its `time` to the second, in UTC)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{RULE_NAME}"],
        "detail": {},
    }
