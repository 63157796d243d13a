"""Alarms on every consumer (iterator age, errors), every mapping (its on-failure queue, its heartbeat), every Kinesis
stream and the events table's stream, and the pipeline's CloudWatch dashboard."""

from __future__ import annotations

from typing import Any

import pytest

from infra.application import STACK_NAME
from infra.topology import TOPOLOGY, EventSource, Function, KinesisStream
from tests.infra.template import Synthesized, refers_to

CONSUMERS = [function for function in TOPOLOGY.functions if function.event_sources]
CONSUMER = pytest.mark.parametrize("function", CONSUMERS, ids=lambda f: f.id)
MAPPINGS = [(function, source) for function in CONSUMERS for source in function.event_sources]
FIVE_MINUTES_MS = 5 * 60 * 1000


def _alarm(synthesized: Synthesized, properties: dict[str, Any]) -> None:
    synthesized.template.has_resource_properties("AWS::CloudWatch::Alarm", properties)


@CONSUMER
def test_consumer_alarms_when_it_falls_behind_its_source(synthesized: Synthesized, function: Function) -> None:
    # GIVEN a consumer WHEN the oldest record it handles waited more than five minutes (3 minutes running)
    # THEN an alarm on its Lambda IteratorAge goes off
    _alarm(
        synthesized,
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "IteratorAge",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": synthesized.function_id(function)}}],
            "Statistic": "Maximum",
            "Period": 60,
            "Threshold": FIVE_MINUTES_MS,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "TreatMissingData": "notBreaching",
        },
    )


@CONSUMER
def test_consumer_alarms_when_its_invocations_keep_failing(synthesized: Synthesized, function: Function) -> None:
    _alarm(
        synthesized,
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": synthesized.function_id(function)}}],
            "Statistic": "Sum",
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


@pytest.mark.parametrize(("function", "source"), MAPPINGS, ids=[f"{f.id}-{s.source}" for f, s in MAPPINGS])
def test_a_message_in_a_failure_queue_raises_an_alarm(
    synthesized: Synthesized, function: Function, source: EventSource
) -> None:
    # GIVEN the mapping's on-failure queue WHEN it holds one message (a batch Lambda gave up on) THEN it alarms
    queue_id = synthesized.failure_queue_id(function, source)
    _alarm(
        synthesized,
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Statistic": "Maximum",
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
        },
    )


@pytest.mark.parametrize("stream", TOPOLOGY.streams, ids=lambda s: s.id)
def test_kinesis_stream_alarms_when_a_reader_falls_behind_or_none_can_read(
    synthesized: Synthesized, stream: KinesisStream
) -> None:
    # GIVEN a Kinesis stream WHEN its slowest reader is 5 minutes behind, or no GetRecords at all was made on it for
    # 3 minutes (Lambda polls every shard every second: nobody can read it) THEN it alarms
    _alarm(
        synthesized,
        {
            "Namespace": "AWS/Kinesis",
            "MetricName": "GetRecords.IteratorAgeMilliseconds",
            "Dimensions": [{"Name": "StreamName", "Value": {"Ref": synthesized.stream_id(stream)}}],
            "Statistic": "Maximum",
            "Threshold": FIVE_MINUTES_MS,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "TreatMissingData": "breaching",
        },
    )


@pytest.mark.parametrize(("function", "source"), MAPPINGS, ids=[f"{f.id}-{s.source}" for f, s in MAPPINGS])
def test_a_mapping_that_hears_no_heartbeat_for_three_periods_alarms(
    synthesized: Synthesized, function: Function, source: EventSource
) -> None:
    # GIVEN a mapping WHEN its consumer noted no heartbeat from its source in 3 periods of the heartbeat's rate,
    # missing data counting as breaching (a mapping that cannot poll invokes nothing, so publishes nothing) THEN
    # its own alarm goes off
    heartbeat = TOPOLOGY.heartbeat
    assert heartbeat is not None
    source_name: Any = (
        {"Ref": synthesized.table_id(TOPOLOGY.table(source.source))}
        if source.kind == "dynamodb"
        else TOPOLOGY.stream(source.source).name
    )
    _alarm(
        synthesized,
        {
            "AlarmName": f"{STACK_NAME}-{function.id}-{source.source}-heartbeat",
            "Namespace": heartbeat.namespace,
            "MetricName": heartbeat.metric,
            "Dimensions": [
                {"Name": "Consumer", "Value": function.id},
                {"Name": "Source", "Value": source_name},
                {"Name": "service", "Value": TOPOLOGY.environment["POWERTOOLS_SERVICE_NAME"]},
            ],
            "Statistic": "Sum",
            "Period": heartbeat.rate_minutes * 60,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "EvaluationPeriods": heartbeat.missed_beats,
            "DatapointsToAlarm": heartbeat.missed_beats,
            "TreatMissingData": "breaching",
        },
    )


def test_every_mapping_has_exactly_one_heartbeat_alarm(synthesized: Synthesized) -> None:
    names = [a["Properties"]["AlarmName"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    assert sorted(n for n in names if n.endswith("-heartbeat")) == sorted(
        f"{STACK_NAME}-{f.id}-{s.source}-heartbeat" for f, s in MAPPINGS
    )


def test_the_events_table_stream_alarms_when_one_of_its_readers_falls_behind(synthesized: Synthesized) -> None:
    # GIVEN the events table's DynamoDB stream (which has no stream-level metric of its own) THEN an alarm on the
    # largest IteratorAge of its readers, the projector and the publisher
    readers = [function for function, _ in TOPOLOGY.consumers_of("dynamodb", "events")]
    (alarm,) = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{STACK_NAME}-events-stream-iterator-age"
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
        FIVE_MINUTES_MS,
        "GreaterThanThreshold",
        3,
    )
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    inputs = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert expression["Expression"] == f"MAX([{', '.join(inputs)}])"
    assert sorted(
        (stat["Metric"]["MetricName"], stat["Metric"]["Dimensions"][0]["Value"]["Ref"], stat["Stat"], stat["Period"])
        for stat in inputs.values()
    ) == sorted(("IteratorAge", synthesized.function_id(f), "Maximum", 60) for f in readers)
    assert alarm["TreatMissingData"] == "notBreaching"  # idle readers publish none; their heartbeat alarms see them


def test_alarms_have_no_actions_and_say_what_they_mean(synthesized: Synthesized) -> None:
    # Deliberate (docs/pipeline.md): no one is paged; each alarm is named after the stack and says what to look at
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm").values()
    assert alarms
    for alarm in alarms:
        properties = alarm["Properties"]
        assert "AlarmActions" not in properties
        assert properties["AlarmName"].startswith(f"{STACK_NAME}-")
        assert len(properties["AlarmDescription"]) > 40


def _dashboard_body(synthesized: Synthesized) -> Any:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    return dashboard["Properties"]["DashboardBody"]


def test_the_dashboard_name_holds_the_stack_and_the_region_dashboards_are_global_to_the_account(
    synthesized: Synthesized,
) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == {
        "Fn::Join": ["", [f"{STACK_NAME}-", {"Ref": "AWS::Region"}, "-pipeline"]]
    }


def test_dashboard_shows_every_consumer_queue_stream_and_read_model(synthesized: Synthesized) -> None:
    # GIVEN the pipeline dashboard THEN it charts each consumer (invocations, errors, iterator age), each failure
    # queue's depth, each Kinesis stream's incoming records and iterator age, and the read models' writes
    body = _dashboard_body(synthesized)
    for function in CONSUMERS:
        assert refers_to(body, synthesized.function_id(function)), function.id
    for function, source in MAPPINGS:
        assert refers_to(body, synthesized.failure_queue_id(function, source)), (function.id, source.source)
    for stream in TOPOLOGY.streams:
        assert refers_to(body, synthesized.stream_id(stream)), stream.id
    for table in ("accounts", "alerts", "reports", "notifications"):
        assert refers_to(body, synthesized.table_id(TOPOLOGY.table(table))), table
    text = _flatten(body)
    for metric in (
        "Invocations",
        "Errors",
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "IncomingRecords",
        "GetRecords.IteratorAgeMilliseconds",
        "ConsumedWriteCapacityUnits",
        "NumberOfMessagesPublished",
        "Heartbeat",
    ):
        assert f'"{metric}"' in text, metric


def test_dashboard_shows_the_state_of_every_alarm(synthesized: Synthesized) -> None:
    body = _dashboard_body(synthesized)
    for alarm_id in synthesized.of_type("AWS::CloudWatch::Alarm"):
        assert refers_to(body, alarm_id), alarm_id


def _flatten(value: Any) -> str:
    """The literal parts of a Fn::Join'd dashboard body."""
    if isinstance(value, dict):
        return "".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return "".join(_flatten(v) for v in value)
    return value if isinstance(value, str) else ""
