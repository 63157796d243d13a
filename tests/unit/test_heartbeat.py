"""The pipeline's heartbeat: the schedule records one beat per firing, the beat travels every mapping of the topology
(the publisher to every stream it feeds, the fraud consumers on to the alerts stream), and every consumer notes it
(the Heartbeat metric, by consumer and source) and does nothing else with it."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.topology import TOPOLOGY, EventSource, Function, StreamAccess
from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import (
    InMemoryAlertViews,
    InMemoryBus,
    InMemoryNotificationLog,
    InMemoryReportStore,
    InMemorySalesStore,
    InMemoryStateViews,
    RecordingNotifier,
)
from ledger.application.heartbeats import HEARTBEAT
from ledger.components import (
    ACCOUNT_VIEWS,
    ALERT_VIEWS,
    NOTIFICATION_LOG,
    NOTIFIER,
    ORDER_VIEWS,
    REPORT_STORE,
    SALES_STORE,
    STOCK_VIEWS,
)
from ledger.domain.accounts import DepositMoney, OpenAccount
from ledger.entrypoints import heartbeat, notifications, reporting
from ledger.entrypoints.streams import HEARTBEAT_METRIC, METRICS_NAMESPACE, is_heartbeat
from ledger.kernel.service import CommandContext
from local.apigw import LambdaContext
from tests.ledger_fixtures import account_service
from tests.unit.pipeline_support import dynamodb_event, invoke, kinesis_event

FIRED = "2026-11-26T08:30:00Z"
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": FIRED,
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/heartbeat"],
    "detail": {},
}
MAPPINGS = [(function, source) for function in TOPOLOGY.functions for source in function.event_sources]
CONTEXT: Any = LambdaContext("heartbeat")


class Wired:
    """Every part a consumer writes to, in memory, in the process's root."""

    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.bus = InMemoryBus()
        self.views: dict[str, Any] = {
            "accounts": InMemoryStateViews[Any](),
            "orders": InMemoryStateViews[Any](lambda order: order.placed_at),
            "stock": InMemoryStateViews[Any](),
            "sales": InMemorySalesStore(),
            "alerts": InMemoryAlertViews(),
            "reports": InMemoryReportStore(),
            "notified": InMemoryNotificationLog(),
            "notifier": RecordingNotifier(),
        }
        root = bootstrap.reset().provide(bootstrap.EVENT_STORE, self.store).provide(bootstrap.COMMAND_STORE, self.store)
        root.provide(bootstrap.BUS, self.bus)
        for part, name in (
            (ACCOUNT_VIEWS, "accounts"),
            (ORDER_VIEWS, "orders"),
            (STOCK_VIEWS, "stock"),
            (SALES_STORE, "sales"),
            (ALERT_VIEWS, "alerts"),
            (REPORT_STORE, "reports"),
            (NOTIFICATION_LOG, "notified"),
            (NOTIFIER, "notifier"),
        ):
            root.provide(part, self.views[name])


@pytest.fixture
def wired() -> Iterator[Wired]:
    yield Wired()
    bootstrap.reset()


def _handler(function: Function) -> Any:
    module, _, attribute = function.handler.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _source_name(source: EventSource) -> str:
    """The name a record's eventSourceARN gives its source: the Kinesis stream's, or the table's."""
    if source.kind == "dynamodb":
        return TOPOLOGY.table(source.source).local_name
    return TOPOLOGY.stream(source.source).name


def _heartbeats(out: str) -> list[tuple[str, str, float]]:
    """(consumer, source, beats) of every Heartbeat metric in the output (embedded metric format)."""
    noted = []
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == METRICS_NAMESPACE and directive["Metrics"][0]["Name"] == HEARTBEAT_METRIC:
            noted.append((document["Consumer"], document["Source"], sum(document[HEARTBEAT_METRIC])))
    return noted


def _metric_names(out: str) -> set[str]:
    return {
        metric["Name"]
        for line in out.splitlines()
        if '"_aws"' in line
        for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def _deliver_everything(wired: Wired) -> list[str]:
    """Every mapping of the topology, in the pipeline's order (the events table's stream, the streams the publisher
    feeds, then the others): the records it has, to its function's handler; the failures they reported."""
    failures: list[str] = []
    stream_records = dynamodb_event(wired.store.events())
    for function, _ in TOPOLOGY.consumers_of("dynamodb", "events"):
        failures += invoke(_handler(function), stream_records)
    ordered = sorted(TOPOLOGY.streams, key=lambda stream: not stream.aggregate_types)
    for stream in ordered:
        records = kinesis_event(wired.bus.streams.get(stream.name, []), stream=stream.name)
        for function, _ in TOPOLOGY.consumers_of("kinesis", stream.id):
            failures += invoke(_handler(function), records)
    return failures


def test_the_schedule_records_one_beat_per_firing_however_often_it_is_delivered(wired: Wired) -> None:
    # GIVEN a firing of the schedule WHEN the heartbeat function gets it twice (EventBridge delivers at least once)
    first = heartbeat.lambda_handler(SCHEDULED, CONTEXT)
    again = heartbeat.lambda_handler(SCHEDULED, CONTEXT)
    # THEN one beat, of the heartbeat's own aggregate type, named after the time the schedule fired
    assert (first, again) == ({"beat_id": FIRED, "recorded": True}, {"beat_id": FIRED, "recorded": False})
    (beat,) = wired.store.events()
    assert (beat.aggregate_type, beat.aggregate_id, beat.event_type) == (HEARTBEAT.type, FIRED, "HeartbeatRecorded")
    assert beat.metadata["causation_id"] == SCHEDULED["id"]


@pytest.mark.parametrize("time", [None, "", "yesterday", "2026-11-26T08:30:00"])
def test_an_event_that_is_not_a_scheduled_firing_records_nothing(wired: Wired, time: str | None) -> None:
    with pytest.raises(ValueError, match="not a scheduled event"):
        heartbeat.lambda_handler({**SCHEDULED, "time": time}, CONTEXT)
    assert wired.store.events() == []


def test_a_beat_goes_through_every_mapping_and_each_consumer_notes_it_and_nothing_else(
    wired: Wired, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a beat recorded by the schedule
    heartbeat.lambda_handler(SCHEDULED, CONTEXT)
    capsys.readouterr()
    # WHEN every mapping of the topology delivers what it has to its consumer
    assert _deliver_everything(wired) == []
    out = capsys.readouterr().out
    # THEN each consumer noted one beat from each of its sources: every mapping of the topology heard it
    assert sorted((c, s) for c, s, _ in _heartbeats(out)) == sorted((f.id, _source_name(s)) for f, s in MAPPINGS)
    # AND the beat is on every stream the publisher feeds, and on the alerts stream once per fraud consumer that
    # forwards it there
    for stream in TOPOLOGY.streams:
        beats = [json.loads(data) for _, data in wired.bus.streams.get(stream.name, [])]
        putters = [f for f in TOPOLOGY.functions if f.event_sources and stream.id in _puts_on(f)]
        assert [m["aggregate_id"] for m in beats] == [FIRED] * (1 if stream.aggregate_types else len(putters))
    # AND nothing else happened: no event appended in answer, no read model row, figure, alert or notification,
    # and no consumer counted the beat as an event it does not know
    assert [e.aggregate_type for e in wired.store.events()] == [HEARTBEAT.type]
    assert {name: _size(view) for name, view in wired.views.items()} == dict.fromkeys(wired.views, 0)
    assert "UnknownEventsSkipped" not in _metric_names(out)


def _puts_on(function: Function) -> set[str]:
    return {access.stream for access in function.access if isinstance(access, StreamAccess)}


def _size(view: Any) -> int:
    """How many rows a read model holds, whatever its kind."""
    for name in ("rows", "alerts", "reports", "minutes_", "sent", "published"):
        if hasattr(view, name):
            return len(getattr(view, name))
    raise AssertionError(view)


def test_every_consumer_of_the_topology_is_declared_under_its_own_id() -> None:
    # The metric's Consumer dimension is what the deployed alarms watch: it must be the topology's function id
    assert {f.id: getattr(_handler(f), "consumer", None) for f, _ in MAPPINGS} == {f.id: f.id for f, _ in MAPPINGS}


def test_a_beat_among_business_records_reaches_the_handler_neither_does_it_change_their_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a batch of the transactions stream holding a deposit, a beat and another deposit
    store = InMemoryEventStore()
    service = account_service(store)
    context = CommandContext("corr", "req")
    service.execute(OpenAccount("a-1", "Ann"), context)
    service.execute(DepositMoney("a-1", 700), context)
    reports = InMemoryReportStore()
    bootstrap.reset().provide(REPORT_STORE, reports)
    try:
        beat = json.dumps({"aggregate_type": "Heartbeat", "aggregate_id": FIRED}).encode()  # any layout
        messages = [("a-1", _message(store, 0)), (FIRED, beat), ("a-1", _message(store, 1))]
        event = kinesis_event(messages, stream="account-transactions")
        # WHEN reporting handles it
        assert invoke(reporting.lambda_handler, event) == []
        # THEN the deposits are counted, the beat is noted and not counted
        assert len(reports.applied) == 2
        assert _heartbeats(capsys.readouterr().out) == [("reporting", "account-transactions", 1)]
    finally:
        bootstrap.reset()


def test_a_beat_the_alerts_consumers_get_is_no_alert_and_notifies_nobody(capsys: pytest.CaptureFixture[str]) -> None:
    notifier = RecordingNotifier()
    bootstrap.reset().provide(NOTIFICATION_LOG, InMemoryNotificationLog()).provide(NOTIFIER, notifier)
    try:
        beat = json.dumps({"aggregate_type": "Heartbeat", "aggregate_id": FIRED}, separators=(",", ":")).encode()
        event = kinesis_event([(FIRED, beat)], stream="account-alerts")
        assert invoke(notifications.lambda_handler, event) == []
        assert notifier.published == []
        assert _heartbeats(capsys.readouterr().out) == [("notifications", "account-alerts", 1)]
    finally:
        bootstrap.reset()


def test_a_beat_the_alerts_stream_refuses_fails_so_that_lambda_puts_it_again(wired: Wired) -> None:
    # GIVEN a beat on the transactions stream WHEN fraud detection forwards it and the alerts stream refuses it
    beat = json.dumps({"aggregate_type": "Heartbeat", "aggregate_id": FIRED}).encode()
    event = kinesis_event([(FIRED, beat)], stream="account-transactions")
    wired.bus.refuse = {0}
    fraud = _handler(TOPOLOGY.function("fraud"))
    # THEN its record is a batch item failure (Lambda retries it), and nothing is on the stream
    assert invoke(fraud, event) == [event["Records"][0]["kinesis"]["sequenceNumber"]]
    assert wired.bus.streams.get("account-alerts", []) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"aggregate_type":"Heartbeat"}', True),
        (b'{"aggregate_type": "Heartbeat", "data": {}}', True),
        (b'{"aggregate_type":"Account","data":{"description":"Heartbeat"}}', False),
        (b'{"alert_id":"a-1","rule":"Heartbeat"}', False),
        (b'["Heartbeat"]', False),
        (b"not json Heartbeat", False),
        (b"\xff\xfe Heartbeat", False),
    ],
)
def test_a_heartbeat_is_told_by_its_aggregate_type_only(data: bytes, expected: bool) -> None:
    (record,) = kinesis_event([("k", data)])["Records"]
    assert is_heartbeat(record) is expected


def _message(store: InMemoryEventStore, index: int) -> bytes:
    from ledger.catalog import AGGREGATES
    from ledger.kernel.messages import message_of

    return message_of(store.events()[index], AGGREGATES).to_json()


def test_the_topology_names_the_heartbeat_as_the_functions_do() -> None:
    # The alarms (CDK) and the local status read what the topology says; the consumers emit what streams.py says
    declared = TOPOLOGY.heartbeat
    assert declared is not None
    assert (declared.aggregate_type, declared.namespace, declared.metric) == (
        HEARTBEAT.type,
        METRICS_NAMESPACE,
        HEARTBEAT_METRIC,
    )
    assert _handler(TOPOLOGY.function(declared.function)) is heartbeat.lambda_handler
