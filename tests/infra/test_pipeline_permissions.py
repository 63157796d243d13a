"""Least privilege in the event pipeline: each role holds exactly its topology access plus the reads its mappings
need, the publisher can only read the event stream and put to account-transactions, and every table, stream and
topic is written only by the function that owns it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.topology import TOPOLOGY, Function, StreamAccess, TableAccess, TopicAccess
from tests.infra.template import Synthesized, arn_of, as_list, grants, refers_to

FUNCTIONS = pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)
# What Lambda's poller needs to read each kind of source with the function's role (AWS documentation), written out
# here so that widening the implementation's lists fails a test.
DYNAMODB_STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
# ...and the one read with no resource-level permissions: on '*', in a statement of its own
DYNAMODB_LIST_STREAMS = "dynamodb:ListStreams"
KINESIS_STREAM_READ = {
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
}
DYNAMODB_WRITES = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)
KINESIS_WRITES = ("kinesis:PutRecord", "kinesis:PutRecords")
# Who may write what, as the issue states it (not derived from the topology, so a topology change shows up here).
TABLE_WRITERS = {
    # The consumers that answer events with commands append too, and the heartbeat records its beats.
    "events": {"commands", "inventory", "shipping", "order-fraud", "heartbeat"},
    "idempotency": {"commands", "inventory", "shipping", "order-fraud"},
    "accounts": {"projector"},
    "orders": {"projector"},
    "stock": {"projector"},
    "sales": {"analytics"},
    "alerts": {"alerts"},
    "reports": {"reporting"},
    "notifications": {"notifications"},
}
STREAM_WRITERS = {
    "transactions": {"publisher"},
    "orders": {"publisher"},
    "fulfilment": {"publisher"},
    "alerts": {"fraud", "order-fraud"},
}
TOPIC_PUBLISHERS = {"notifications": {"notifications"}}
SOURCE_READERS = {
    ("dynamodb", "events"): {"projector", "publisher"},
    ("kinesis", "transactions"): {"fraud", "reporting"},
    ("kinesis", "orders"): {"inventory", "shipping", "analytics", "order-fraud"},
    ("kinesis", "fulfilment"): {"inventory", "shipping"},
    ("kinesis", "alerts"): {"notifications", "alerts"},
}

Grant = tuple[str, str]  # (action, resource as canonical JSON)


def _key(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _statements(synthesized: Synthesized, function: Function) -> list[dict[str, Any]]:
    return synthesized.statements(synthesized.role_id(function))


def _grants(synthesized: Synthesized, function: Function) -> set[Grant]:
    """Every (action, resource) the role allows, KMS aside (test_permissions.py checks the keys)."""
    return {
        (action, _key(resource))
        for statement in _statements(synthesized, function)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        if not action.startswith("kms:")
        for resource in as_list(statement["Resource"])
    }


def _expected_grants(synthesized: Synthesized, function: Function) -> set[Grant]:
    expected: set[Grant] = set()
    for access in function.access:
        if isinstance(access, TableAccess):
            table = TOPOLOGY.table(access.table)
            table_arn = arn_of(synthesized.table_id(table))
            resources = [] if access.indexes_only else [table_arn]
            if access.indexes:
                names = [i.name for i in table.local_indexes] + [i.name for i in table.global_indexes]
                resources += [{"Fn::Join": ["", [table_arn, f"/index/{name}"]]} for name in names]
            expected |= {(action, _key(resource)) for action in access.actions for resource in resources}
        elif isinstance(access, StreamAccess):
            stream = arn_of(synthesized.stream_id(TOPOLOGY.stream(access.stream)))
            expected |= {(action, _key(stream)) for action in access.actions}
        elif isinstance(access, TopicAccess):
            topic = {"Ref": synthesized.topic_id(TOPOLOGY.topic(access.topic))}
            expected |= {(action, _key(topic)) for action in access.actions}
    for source in function.event_sources:
        reads = DYNAMODB_STREAM_READ if source.kind == "dynamodb" else KINESIS_STREAM_READ
        expected |= {(action, _key(synthesized.source_arn(source))) for action in reads}
        if source.kind == "dynamodb":
            expected.add((DYNAMODB_LIST_STREAMS, _key("*")))
        expected.add(("sqs:SendMessage", _key(arn_of(synthesized.failure_queue_id(function, source)))))
    log_group = synthesized.function(function)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    expected |= {(action, _key(arn_of(log_group))) for action in ("logs:CreateLogStream", "logs:PutLogEvents")}
    expected |= {(action, _key("*")) for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")}
    return expected


@FUNCTIONS
def test_role_grants_exactly_the_topology_access_and_the_reads_of_its_sources(
    synthesized: Synthesized, spec: Function
) -> None:
    # GIVEN the function's role WHEN listing every action it allows on every resource THEN that is exactly its
    # topology access, reading its event sources and sending to their failure queues, its logs and X-Ray
    assert _grants(synthesized, spec) == _expected_grants(synthesized, spec)


def test_publisher_only_reads_the_event_stream_and_puts_to_the_aggregates_streams(synthesized: Synthesized) -> None:
    publisher = TOPOLOGY.function("publisher")
    statements = _statements(synthesized, publisher)
    events_stream = {"Fn::GetAtt": [synthesized.table_id(TOPOLOGY.table("events")), "StreamArn"]}
    published = [s for s in TOPOLOGY.streams if s.aggregate_types]
    # THEN its only DynamoDB resource is the events table's stream, and only to read it (no table, no index), plus
    # listing the streams (which names no resource)
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert [(set(as_list(s["Action"])), as_list(s["Resource"])) for s in dynamodb] == [
        (DYNAMODB_STREAM_READ, [events_stream]),
        ({DYNAMODB_LIST_STREAMS}, ["*"]),
    ]
    # and its only Kinesis permission is PutRecords on the streams the topology routes aggregate types to
    kinesis = [s for s in statements if any(a.startswith("kinesis:") for a in as_list(s["Action"]))]
    assert [(as_list(s["Action"]), as_list(s["Resource"])) for s in kinesis] == [
        (["kinesis:PutRecords"], [arn_of(synthesized.stream_id(stream))]) for stream in published
    ]
    assert [s.id for s in published] == ["transactions", "orders", "fulfilment"]
    # and nothing on any topic
    assert not any(a.startswith("sns:") for s in statements for a in as_list(s["Action"]))


@pytest.mark.parametrize("table_id", sorted(TABLE_WRITERS))
def test_each_table_is_written_only_by_its_owner(synthesized: Synthesized, table_id: str) -> None:
    # GIVEN every function's role WHEN it can write (put, update, delete) the table or its indexes THEN it is the
    # table's owner: e.g. notifications can write no table but notifications, the projector none but accounts
    logical_id = synthesized.table_id(TOPOLOGY.table(table_id))
    writers = {
        function.id
        for function in TOPOLOGY.functions
        for statement in _statements(synthesized, function)
        if refers_to(statement["Resource"], logical_id) and any(grants(statement, a) for a in DYNAMODB_WRITES)
    }
    assert writers == TABLE_WRITERS[table_id]


@pytest.mark.parametrize("stream_id", sorted(STREAM_WRITERS))
def test_each_kinesis_stream_is_put_to_only_by_its_producer(synthesized: Synthesized, stream_id: str) -> None:
    logical_id = synthesized.stream_id(TOPOLOGY.stream(stream_id))
    writers = {
        function.id
        for function in TOPOLOGY.functions
        for statement in _statements(synthesized, function)
        if refers_to(statement["Resource"], logical_id) and any(grants(statement, a) for a in KINESIS_WRITES)
    }
    assert writers == STREAM_WRITERS[stream_id]


@pytest.mark.parametrize("topic_id", sorted(TOPIC_PUBLISHERS))
def test_each_topic_is_published_to_only_by_its_publisher(synthesized: Synthesized, topic_id: str) -> None:
    logical_id = synthesized.topic_id(TOPOLOGY.topic(topic_id))
    publishers = {
        function.id
        for function in TOPOLOGY.functions
        for statement in _statements(synthesized, function)
        if refers_to(statement["Resource"], logical_id) and grants(statement, "sns:Publish")
    }
    assert publishers == TOPIC_PUBLISHERS[topic_id]


@pytest.mark.parametrize(("kind", "source"), sorted(SOURCE_READERS))
def test_each_source_is_read_only_by_its_consumers(synthesized: Synthesized, kind: str, source: str) -> None:
    # GIVEN a stream WHEN a role can GetRecords from it THEN that role's function consumes it (DynamoDB allows at
    # most two readers a shard: the events stream has exactly the projector and the publisher)
    action = "dynamodb:GetRecords" if kind == "dynamodb" else "kinesis:GetRecords"
    if kind == "dynamodb":
        arn: Any = {"Fn::GetAtt": [synthesized.table_id(TOPOLOGY.table(source)), "StreamArn"]}
    else:
        arn = arn_of(synthesized.stream_id(TOPOLOGY.stream(source)))
    readers = {
        function.id
        for function in TOPOLOGY.functions
        for statement in _statements(synthesized, function)
        if arn in as_list(statement["Resource"]) and grants(statement, action)
    }
    assert readers == SOURCE_READERS[(kind, source)]


@FUNCTIONS
def test_role_sends_only_to_its_own_failure_queues(synthesized: Synthesized, spec: Function) -> None:
    own = [arn_of(synthesized.failure_queue_id(spec, source)) for source in spec.event_sources]
    sqs = [s for s in _statements(synthesized, spec) if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert [(as_list(s["Action"]), as_list(s["Resource"])) for s in sqs] == [(["sqs:SendMessage"], [q]) for q in own]


def _expected_key_actions(function: Function) -> dict[str, set[str]]:
    """What each service does with the caller's credentials on the keys behind the function's resources."""
    expected: dict[str, set[str]] = {}
    for access in function.access:
        if isinstance(access, TableAccess):
            writes = any(action in DYNAMODB_WRITES for action in access.actions)
            expected.setdefault("dynamodb", set()).update(
                {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}
                if writes
                else {"kms:Decrypt", "kms:DescribeKey"}
            )
        elif isinstance(access, StreamAccess) and "kinesis:PutRecords" in access.actions:
            expected.setdefault("kinesis", set()).add("kms:GenerateDataKey")  # producers encrypt only
        elif isinstance(access, TopicAccess) and "sns:Publish" in access.actions:
            expected.setdefault("sns", set()).update({"kms:Decrypt", "kms:GenerateDataKey"})
    for source in function.event_sources:
        if source.kind == "dynamodb":
            expected.setdefault("dynamodb", set()).update({"kms:Decrypt", "kms:DescribeKey"})
        else:
            expected.setdefault("kinesis", set()).add("kms:Decrypt")  # readers decrypt only
    return expected


@FUNCTIONS
def test_role_uses_each_key_only_for_what_its_service_does_for_it(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN the role's KMS statements, grouped by the service they hold through (kms:ViaService)
    # THEN e.g. the publisher may only decrypt the event stream and generate data keys for account-transactions
    granted: dict[str, set[str]] = {}
    for statement in _statements(synthesized, spec):
        actions = [a for a in as_list(statement["Action"]) if a.startswith("kms:")]
        if actions:
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1][0]
            granted.setdefault(via.rstrip("."), set()).update(actions)
    assert granted == _expected_key_actions(spec)
