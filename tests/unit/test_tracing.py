"""Tracing as deployed (docs/tracing.md): no tracing library in any function, Lambda's active tracing for the
invocations, and correlation ids that follow a request through the logs: HTTP -> event metadata -> stream messages
-> every consumer's log lines, the alerts' path included."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.topology import TOPOLOGY
from ledger.entrypoints import alerts, fraud, notifications, projector, publisher, reporting
from tests.unit.http_support import call
from tests.unit.pipeline_support import RAISED, TX, Pipeline, invoke

ROOT = Path(__file__).resolve().parents[2]
HANDLER_MODULES = sorted({function.handler.rpartition(".")[0] for function in TOPOLOGY.functions})


def test_no_function_loads_the_xray_sdk_or_any_tracing_library() -> None:
    # GIVEN every handler module of the topology, imported in a fresh process as Lambda's init does
    script = (
        "import json, sys\n"
        f"for name in {HANDLER_MODULES!r}: __import__(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    # THEN the X-Ray SDK (maintenance mode since 2026-02-25) is not among what they load, nor OpenTelemetry
    assert "ledger" in loaded
    assert len(HANDLER_MODULES) == len(TOPOLOGY.functions)
    assert loaded.isdisjoint({"aws_xray_sdk", "opentelemetry"})


@pytest.fixture
def logs(pipeline: Pipeline) -> Iterator[io.StringIO]:
    """Every function's log lines (Powertools' JSON, one object a line) at INFO, as deployed; the handlers' loggers
    share one handler."""
    lines = io.StringIO()
    handler = alerts.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream, level = handler.stream, alerts.logger.log_level
    handler.setStream(lines)
    alerts.logger.setLevel("INFO")
    yield lines
    handler.setStream(stream)
    alerts.logger.setLevel(level)


def test_each_consumer_logs_the_correlation_id_of_the_request_that_caused_its_event(
    pipeline: Pipeline, logs: io.StringIO
) -> None:
    # GIVEN an account opened, then a deposit large enough to raise an alert, each an HTTP request with its own
    # X-Correlation-Id, through the command function
    call("POST", "/accounts", {"owner": "Ann", "account_id": "acc-1"}, X_Correlation_Id="open-ann")
    call("POST", "/accounts/acc-1/deposits", {"amount": 1_500_000}, X_Correlation_Id="big-deposit")
    # WHEN the events go down the pipeline: the table's stream, account-transactions, then account-alerts
    batch = pipeline.stream_batch()
    assert invoke(projector.lambda_handler, batch) == invoke(publisher.lambda_handler, batch) == []
    transactions = pipeline.kinesis(TX)
    assert invoke(fraud.lambda_handler, transactions) == invoke(reporting.lambda_handler, transactions) == []
    raised = pipeline.kinesis(RAISED)
    assert invoke(alerts.lambda_handler, raised) == invoke(notifications.lambda_handler, raised) == []
    # THEN each consumer's line about them names the requests' correlation ids
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    for message in ("projected batch", "published", "reported"):
        assert _line(lines, message)["correlation_ids"] == ["open-ann", "big-deposit"]
    # AND the alert carries the deposit's, from fraud detection through the alerts stream to its two consumers
    (deposit,) = [event for event in pipeline.events() if event.event_type == "MoneyDeposited"]
    assert _line(lines, "alert raised")["correlation_id"] == "big-deposit"
    assert _line(lines, "alert raised")["event_id"] == deposit.event_id
    assert _line(lines, "alert stored")["correlation_id"] == "big-deposit"
    assert _line(lines, "notification")["correlation_id"] == "big-deposit"


def _line(lines: list[dict[str, Any]], message: str) -> dict[str, Any]:
    (found,) = [line for line in lines if line.get("message") == message]
    return found
