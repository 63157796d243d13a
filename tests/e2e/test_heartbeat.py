"""The pipeline's heartbeat on a local runtime of its own, firing every few seconds: every event source mapping of the
topology hears it (its consumer notes it, as the deployed metric), `python -m local.status` shows it, and nothing of
the business changes: no read model row, figure, alert, notification, and nothing given up on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from infra.topology import TOPOLOGY
from ledger.adapters.dynamodb_event_store import record_of_item
from ledger.kernel.records import EventRecord
from local.heartbeats import PIPELINE_DELAY_SECONDS as DELAY
from local.pipeline import failure_queue_name, mapping_name
from tests.e2e.local_runtime import ROOT, LocalRuntime
from tests.e2e.pipeline import NOTIFICATION_QUEUE, eventually
from tests.e2e.support import local_only

pytestmark = local_only

HEARTBEAT_SECONDS: Final = 3
MAPPINGS: Final = {
    mapping_name(TOPOLOGY, function, source): (function, source)
    for function in TOPOLOGY.functions
    for source in function.event_sources
}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    data_dir: Path = tmp_path_factory.mktemp("heartbeat") / "data"
    with LocalRuntime(data_dir, reset=True, args=[f"--heartbeat-seconds={HEARTBEAT_SECONDS}"]) as runtime:
        yield runtime


def _heartbeats(runtime: LocalRuntime) -> dict[str, dict[str, Any]]:
    heartbeat = runtime.status().get("heartbeat") or {}
    return {row["mapping"]: row for row in heartbeat.get("mappings", [])}


@pytest.fixture(scope="module")
def heard(runtime: LocalRuntime) -> dict[str, dict[str, Any]]:
    """The status once every mapping's consumer noted two beats (the first ones wait for cold starts)."""

    def everyone_twice() -> dict[str, dict[str, Any]] | None:
        rows = _heartbeats(runtime)
        return rows if rows and all(row["beats"] >= 2 for row in rows.values()) else None

    return eventually(everyone_twice, timeout=150, interval=0.5)


def test_every_mapping_of_the_topology_hears_the_heartbeat_and_none_is_overdue(
    runtime: LocalRuntime, heard: dict[str, dict[str, Any]]
) -> None:
    # GIVEN a beat every 3 s WHEN the runtime has run a while THEN each mapping's consumer noted beats from its source
    assert set(heard) == set(MAPPINGS)
    for name, row in heard.items():
        function, _ = MAPPINGS[name]
        assert row["consumer"] == function.id, name
    heartbeat = runtime.status()["heartbeat"]
    assert heartbeat["every_seconds"] == HEARTBEAT_SECONDS
    assert TOPOLOGY.heartbeat is not None
    assert heartbeat["overdue_after_seconds"] == HEARTBEAT_SECONDS * TOPOLOGY.heartbeat.missed_beats + DELAY
    assert [name for name, row in _heartbeats(runtime).items() if row["overdue"]] == []


def test_local_status_shows_each_mappings_last_heartbeat(runtime: LocalRuntime, heard: dict[str, Any]) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "local.status", f"--data-dir={runtime.data_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f"heartbeat every {HEARTBEAT_SECONDS} s" in shown
    rows = {line.split("  ")[0]: line for line in shown.splitlines() if line.split("  ")[0] in MAPPINGS}
    assert set(rows) == set(MAPPINGS)
    assert all(line.endswith(" ok") and " s ago " in line for line in rows.values()), rows


def test_the_heartbeat_changes_nothing_of_the_business(runtime: LocalRuntime, heard: dict[str, Any]) -> None:
    api = runtime.client()
    # GIVEN beats through every consumer THEN the event store holds beats only, of their own aggregate type
    types = {item["aggregate_type"]["S"] for item in _scan(runtime, "ledger-events")}
    assert types == {"Heartbeat"}
    # AND no read model row, figure or alert
    for path, field in (
        ("/accounts", "accounts"),
        ("/orders", "orders"),
        ("/inventory", "stock"),
        ("/alerts", "alerts"),
    ):
        response = api.get(path)
        assert (response.status, response.json[field]) == (200, []), path
    sales = api.get("/analytics/sales")  # the last hour
    assert sales.status == 200, sales.body
    assert all(value == 0 for value in sales.json["totals"].values() if isinstance(value, int)), sales.json
    for table in ("ledger-reports", "ledger-notifications", "ledger-sales"):
        assert _scan(runtime, table) == [], table
    # AND no notification was sent, and no mapping gave anything up
    sqs = runtime.aws("sqs")
    queue = sqs.get_queue_url(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []) == []
    for function, source in MAPPINGS.values():
        url = sqs.get_queue_url(QueueName=failure_queue_name(function, source))["QueueUrl"]
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == [], function.id
    assert all(m["discarded_records"] == 0 and m["failed_invocations"] == 0 for m in runtime.status()["mappings"])


def _scan(runtime: LocalRuntime, table: str) -> list[dict[str, Any]]:
    dynamodb = runtime.aws("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_each_firing_is_one_beat_named_after_its_time(runtime: LocalRuntime, heard: dict[str, Any]) -> None:
    records = [record_of_item(item) for item in _scan(runtime, "ledger-events")]
    beats = [record for record in records if isinstance(record, EventRecord)]
    assert len(beats) >= 2
    assert all((b.event_type, b.version, b.data["beat_id"]) == ("HeartbeatRecorded", 1, b.aggregate_id) for b in beats)
    assert len({beat.aggregate_id for beat in beats}) == len(beats)
