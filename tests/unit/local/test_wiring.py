"""How the local runtime wires the pipeline: the functions' environment, which handlers exist, the read models'
rebuild on start (its command faked here)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from infra.topology import TOPOLOGY, Topology
from local import rebuild
from local.environment import function_environment, resource_environment
from local.lambdas import handler_available
from local.pipeline import failure_queue_name, mapping_name
from local.rebuild import RebuildError, rebuild_read_models


def test_every_function_sees_the_streams_names_and_the_topics_arns() -> None:
    environment = function_environment(
        TOPOLOGY, TOPOLOGY.function("notifications"), endpoint_url="http://127.0.0.1:4566", region="eu-west-1"
    )
    assert environment["TRANSACTIONS_STREAM_NAME"] == "account-transactions"
    assert json.loads(environment["EVENT_STREAMS"]) == {  # the publisher's routing
        "Account": "account-transactions",
        "Order": "orders",
        "Customer": "orders",
        "Stock": "fulfilment",
        "Shipment": "fulfilment",
        "Heartbeat": ["account-transactions", "orders", "fulfilment"],  # every stream the publisher feeds
    }
    assert environment["ALERTS_STREAM_NAME"] == "account-alerts"
    assert environment["NOTIFICATION_TOPIC_ARN"] == "arn:aws:sns:eu-west-1:123456789012:account-notifications"
    assert environment["ACCOUNTS_TABLE_NAME"] == "ledger-accounts"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "ledger-notifications"


def test_mappings_and_their_queues_are_named_after_function_and_source() -> None:
    fraud = TOPOLOGY.function("fraud")
    projector = TOPOLOGY.function("projector")
    assert mapping_name(TOPOLOGY, fraud, fraud.event_sources[0]) == "fraud <- account-transactions"
    assert mapping_name(TOPOLOGY, projector, projector.event_sources[0]) == "projector <- ledger-events"
    assert failure_queue_name(fraud, fraud.event_sources[0]) == "ledger-fraud-transactions-dlq"


def test_a_handler_is_available_when_its_module_exists() -> None:
    assert handler_available("ledger.entrypoints.commands.lambda_handler")
    assert handler_available("tests.unit.local.fakes.data")
    assert not handler_available("ledger.entrypoints.no_such_module.lambda_handler")


class Runs:
    def __init__(self, returncode: int = 0, output: str = "accounts: 2, alerts: 0, reports: 5\n") -> None:
        self.calls: list[dict[str, Any]] = []
        self.returncode, self.output = returncode, output

    def __call__(self, command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append({"command": command, **options})
        return subprocess.CompletedProcess(command, self.returncode, self.output, "")


def test_the_topologys_projections_are_rebuilt_with_the_functions_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs()
    monkeypatch.setattr(subprocess, "run", runs)
    environment = resource_environment(TOPOLOGY, endpoint_url="http://127.0.0.1:4566", region="us-east-1")
    assert rebuild_read_models(TOPOLOGY, environment) == ["accounts", "alerts", "reports", "orders", "stock", "sales"]
    (call,) = runs.calls
    assert call["command"][1:] == ["-m", "ledger.rebuild", "accounts", "alerts", "reports", "orders", "stock", "sales"]
    assert call["env"]["ACCOUNTS_TABLE_NAME"] == "ledger-accounts"
    assert call["env"]["PYTHONPATH"].split(":")[0].endswith("/functions")


def test_a_failing_rebuild_stops_the_start_with_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", Runs(returncode=1, output="Traceback ...\nKeyError: 'x'\n"))
    with pytest.raises(RebuildError, match="KeyError"):
        rebuild_read_models(TOPOLOGY, {})


def test_without_a_rebuild_command_or_projections_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs()
    monkeypatch.setattr(subprocess, "run", runs)
    monkeypatch.setattr(rebuild, "handler_available", lambda handler: False)
    assert rebuild_read_models(TOPOLOGY, {}) == []
    no_projections = Topology(tables=tuple(t for t in TOPOLOGY.tables if not t.projection), functions=())
    assert rebuild_read_models(no_projections, {}) == []
    assert runs.calls == []
