"""The heartbeat on the local runtime: the schedule fires EventBridge's event at the heartbeat function, the board
reads the consumers' Heartbeat metrics from what their invocations logged, and the status shows who is overdue."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any, Final

from infra.topology import TOPOLOGY
from local.heartbeats import PIPELINE_DELAY_SECONDS, HeartbeatBoard, HeartbeatSchedule, scheduled_event
from local.lambdas import FunctionError
from local.status import render
from local.worker import MetricsTap

assert TOPOLOGY.heartbeat is not None
HEARTBEAT: Final = TOPOLOGY.heartbeat
MAPPINGS = [
    ("fraud <- account-transactions", "fraud", "account-transactions"),
    ("projector <- ledger-events", "projector", "ledger-events"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def emf(
    consumer: str, source: str, beats: int, *, metric: str = "Heartbeat", namespace: str = "Ledger"
) -> dict[str, Any]:
    """What Powertools logs for one metric (embedded metric format)."""
    return {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["Consumer", "Source", "service"]],
                    "Metrics": [{"Name": metric}],
                }
            ],
        },
        "Consumer": consumer,
        "Source": source,
        "service": "ledger",
        metric: [float(beats)],
    }


def test_a_consumer_is_overdue_once_it_noted_no_beat_for_the_alarms_number_of_intervals() -> None:
    # GIVEN a beat every 10 s (the alarm's 3 missed beats: overdue after 30 s, and the pipeline's own delay)
    clock = Clock()
    board = HeartbeatBoard(HEARTBEAT, 10, now=clock)
    assert board.overdue_after_seconds == 30 + PIPELINE_DELAY_SECONDS
    # WHEN fraud notes a beat at once, and nothing is heard from the projector
    board.record([emf("fraud", "account-transactions", 1)])
    clock.now += board.overdue_after_seconds - 1
    rows = {row["mapping"]: row for row in board.status(MAPPINGS)["mappings"]}
    # THEN neither is overdue within that time of the start
    assert [(r["beats"], r["overdue"]) for r in rows.values()] == [(1, False), (0, False)]
    # AND after that, the one that never noted a beat is; the other when its beat is that old
    clock.now += 2
    rows = {row["mapping"]: row for row in board.status(MAPPINGS)["mappings"]}
    assert rows["projector <- ledger-events"]["overdue"] is True
    assert rows["projector <- ledger-events"]["last_at"] is None
    assert rows["fraud <- account-transactions"]["overdue"] is True
    board.record([emf("fraud", "account-transactions", 2)])
    rows = {row["mapping"]: row for row in board.status(MAPPINGS)["mappings"]}
    assert (rows["fraud <- account-transactions"]["beats"], rows["fraud <- account-transactions"]["overdue"]) == (
        3,
        False,
    )


def test_other_metrics_are_not_beats() -> None:
    board = HeartbeatBoard(HEARTBEAT, 10, now=Clock())
    board.record(
        [
            emf("fraud", "account-transactions", 1, metric="UnknownEventsSkipped"),
            emf("fraud", "account-transactions", 1, namespace="Other"),
            {"_aws": {}},
        ]
    )
    assert [row["beats"] for row in board.status(MAPPINGS)["mappings"]] == [0, 0]


def test_the_schedule_invokes_the_heartbeat_function_with_eventbridges_scheduled_event() -> None:
    invoked: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any], request_id: str) -> Any:
        invoked.append(event)
        return {"recorded": True}

    schedule = HeartbeatSchedule(invoke, 5, region="eu-west-1")
    assert schedule.fire(datetime(2026, 11, 26, 8, 30, 0, 750_000, tzinfo=UTC)) == {"recorded": True}
    (event,) = invoked
    assert (event["detail-type"], event["source"], event["time"], event["region"]) == (
        "Scheduled Event",
        "aws.events",
        "2026-11-26T08:30:00Z",
        "eu-west-1",
    )
    assert event["resources"] == ["arn:aws:events:eu-west-1:123456789012:rule/ledger-heartbeat"]


def test_a_failed_firing_is_logged_and_the_schedule_goes_on() -> None:
    def fail(event: dict[str, Any], request_id: str) -> Any:
        raise FunctionError("Task timed out after 10.00 seconds")

    schedule = HeartbeatSchedule(fail, 5, region="us-east-1")
    assert schedule.fire() is None
    assert schedule.fired == 1


def test_scheduled_events_of_distinct_firings_have_distinct_ids() -> None:
    at = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert scheduled_event(at, "us-east-1")["id"] != scheduled_event(at, "us-east-1")["id"]


def test_the_status_shows_each_mappings_last_beat_and_who_is_overdue() -> None:
    clock = Clock()
    board = HeartbeatBoard(HEARTBEAT, 10, now=clock)
    board.record([emf("fraud", "account-transactions", 1)])
    clock.now += 41
    status = {
        "written_at": clock.now,
        "quiet": True,
        "notifications_logged": 0,
        "mappings": [],
        "heartbeat": board.status(MAPPINGS),
    }
    text = render(status, clock.now + 1)
    assert "heartbeat every 10 s; overdue after 40 s without one" in text
    lines = text.splitlines()
    (fraud,) = [line for line in lines if line.startswith("fraud <- account-transactions")]
    (projector,) = [line for line in lines if line.startswith("projector <- ledger-events")]
    assert fraud.split()[-5:] == ["42.0", "s", "ago", "1", "OVERDUE"]
    assert "never" in projector
    assert projector.endswith("OVERDUE")
    assert "heartbeat: off" in render({**status, "heartbeat": None}, clock.now)


def test_the_workers_stdout_passes_every_line_on_and_keeps_the_metrics_documents() -> None:
    out = io.StringIO()
    tap = MetricsTap(out)
    document = emf("alerts", "account-alerts", 1)
    print(json.dumps({"level": "INFO", "message": "alert stored"}), file=tap)
    print(json.dumps(document, separators=(",", ":")), file=tap)
    print('{"_aws": not json', file=tap)
    assert out.getvalue().count("\n") == 3
    assert tap.take() == [document]
    assert tap.take() == []
