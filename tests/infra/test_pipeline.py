"""The event pipeline: streams, topic, and one event source mapping per topology EventSource with exactly its
settings and its own encrypted on-failure queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.topology import TOPOLOGY, EventSource, Function, KinesisStream, Topic
from tests.infra.template import Synthesized, arn_of

MAPPINGS = [(function, source) for function in TOPOLOGY.functions for source in function.event_sources]
MAPPING = pytest.mark.parametrize(
    ("function", "source"), MAPPINGS, ids=[f"{f.id}-{s.kind}-{s.source}" for f, s in MAPPINGS]
)
FOURTEEN_DAYS = 14 * 24 * 3600


def _mapping(synthesized: Synthesized, function: Function, source: EventSource) -> dict[str, Any]:
    properties: dict[str, Any] = synthesized.resources[synthesized.mapping_id(function, source)]["Properties"]
    return properties


@MAPPING
def test_mapping_reads_its_source_with_exactly_the_topology_settings(
    synthesized: Synthesized, function: Function, source: EventSource
) -> None:
    # GIVEN a topology event source WHEN synthesized THEN one mapping invokes its function with records of that
    # source, with the batch size, window, retries, maximum age, bisection and starting position written down there
    properties = _mapping(synthesized, function, source)
    assert properties["EventSourceArn"] == synthesized.source_arn(source)
    assert properties["BatchSize"] == source.batch_size
    assert properties["MaximumBatchingWindowInSeconds"] == source.max_batching_window_seconds
    assert properties["MaximumRetryAttempts"] == source.retry_attempts
    assert properties["MaximumRecordAgeInSeconds"] == source.max_record_age_seconds
    assert properties["BisectBatchOnFunctionError"] is source.bisect_on_error
    assert properties["ParallelizationFactor"] == source.parallelization_factor
    assert properties["StartingPosition"] == source.starting_position
    assert properties.get("Enabled", True) is True


@MAPPING
def test_mapping_reports_batch_item_failures(synthesized: Synthesized, function: Function, source: EventSource) -> None:
    # Without it a handler's batchItemFailures answer would be ignored and the whole batch retried or passed
    assert _mapping(synthesized, function, source)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@MAPPING
def test_mapping_filters_records_with_the_topology_patterns(
    synthesized: Synthesized, function: Function, source: EventSource
) -> None:
    criteria = _mapping(synthesized, function, source).get("FilterCriteria", {"Filters": []})
    assert [json.loads(f["Pattern"]) for f in criteria["Filters"]] == list(source.filters)


def test_event_stream_consumers_see_only_events_not_snapshots(synthesized: Synthesized) -> None:
    # Snapshots share the events table; the DynamoDB stream consumers must never be invoked with one
    for function, source in TOPOLOGY.consumers_of("dynamodb", "events"):
        criteria = _mapping(synthesized, function, source)["FilterCriteria"]["Filters"]
        assert [json.loads(f["Pattern"]) for f in criteria] == [{"dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}]


def test_the_event_table_stream_has_at_most_two_readers(synthesized: Synthesized) -> None:
    # DynamoDB throttles a shard read by more than two processes at once
    events_stream = synthesized.source_arn(TOPOLOGY.consumers_of("dynamodb", "events")[0][1])
    mappings = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    readers = [m for m in mappings if m["Properties"]["EventSourceArn"] == events_stream]
    assert 1 <= len(readers) <= 2


def test_the_stack_maps_exactly_the_topology_event_sources(synthesized: Synthesized) -> None:
    mapped = {name for name, _ in synthesized.of_type("AWS::Lambda::EventSourceMapping").items()}
    assert mapped == {synthesized.mapping_id(function, source) for function, source in MAPPINGS}


@MAPPING
def test_mapping_sends_what_it_gives_up_on_to_its_own_encrypted_queue(
    synthesized: Synthesized, function: Function, source: EventSource
) -> None:
    # GIVEN the mapping's on-failure destination THEN it is an SQS queue used by no other mapping, encrypted at rest
    # (SQS-managed SSE), keeping messages 14 days, whose policy denies any request made without TLS
    queue_id = synthesized.failure_queue_id(function, source)
    queue = synthesized.resources[queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True or "KmsMasterKeyId" in queue["Properties"]
    assert queue["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS
    others = [synthesized.failure_queue_id(f, s) for f, s in MAPPINGS if (f, s) != (function, source)]
    assert queue_id not in others
    synthesized.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "sqs:*",
                            "Resource": arn_of(queue_id),
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize("stream", TOPOLOGY.streams, ids=lambda s: s.id)
def test_kinesis_stream_has_the_topology_shape_and_a_rotated_customer_managed_key(
    synthesized: Synthesized, stream: KinesisStream
) -> None:
    properties = synthesized.resources[synthesized.stream_id(stream)]["Properties"]
    assert properties["ShardCount"] == stream.shards
    assert properties["RetentionPeriodHours"] == stream.retention_hours
    assert properties["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    encryption = properties["StreamEncryption"]
    assert encryption["EncryptionType"] == "KMS"
    key_id = encryption["KeyId"]["Fn::GetAtt"][0]
    key = synthesized.resources[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("topic", TOPOLOGY.topics, ids=lambda t: t.id)
def test_topic_is_encrypted_with_a_rotated_customer_managed_key_and_refuses_plain_http(
    synthesized: Synthesized, topic: Topic
) -> None:
    topic_id = synthesized.topic_id(topic)
    key_id = synthesized.resources[topic_id]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert synthesized.resources[key_id]["Type"] == "AWS::KMS::Key"
    assert synthesized.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sns:Publish",
                                "Resource": {"Ref": topic_id},
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_streams_and_topics_do_not_share_a_key(synthesized: Synthesized) -> None:
    stream_keys = {
        synthesized.resources[synthesized.stream_id(s)]["Properties"]["StreamEncryption"]["KeyId"]["Fn::GetAtt"][0]
        for s in TOPOLOGY.streams
    }
    topic_keys = {
        synthesized.resources[synthesized.topic_id(t)]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        for t in TOPOLOGY.topics
    }
    table_keys = {
        r["Properties"]["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0]
        for r in synthesized.of_type("AWS::DynamoDB::Table").values()
    }
    assert stream_keys.isdisjoint(topic_keys)
    assert table_keys.isdisjoint(stream_keys | topic_keys)
