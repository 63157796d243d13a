"""The tables (infra/tables.py): the event store's keys, index, stream and TTL, and the protections that keep the
ledger's history."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.topology import EVENTS, TOPOLOGY, Table


def _keyed_by(table: Table) -> dict[str, object]:
    return {"KeySchema": Match.array_with([{"AttributeName": table.partition_key.name, "KeyType": "HASH"}])}


def test_events_table_is_keyed_by_aggregate_and_sequence_number(template: Template) -> None:
    # GIVEN the synthesized stack THEN the events table's hash key is the aggregate id (S), its range key seq (N)
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "aggregate_id", "KeyType": "HASH"},
                {"AttributeName": "seq", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_with(
                [
                    {"AttributeName": "aggregate_id", "AttributeType": "S"},
                    {"AttributeName": "seq", "AttributeType": "N"},
                ]
            ),
        },
    )


def test_events_table_has_the_by_time_local_index_of_the_topology(template: Template) -> None:
    (index,) = EVENTS.local_indexes
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            **_keyed_by(EVENTS),
            "LocalSecondaryIndexes": [
                {
                    "IndexName": "by_time",
                    "KeySchema": [
                        {"AttributeName": "aggregate_id", "KeyType": "HASH"},
                        {"AttributeName": index.sort_key.name, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": index.projection},
                }
            ],
            "AttributeDefinitions": Match.array_with(
                [{"AttributeName": index.sort_key.name, "AttributeType": index.sort_key.type}]
            ),
        },
    )


def test_events_table_streams_new_images_for_the_next_consumers(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table", {**_keyed_by(EVENTS), "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}
    )


def test_idempotency_records_expire_through_the_topology_ttl_attribute(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "idempotency_key", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )


@pytest.mark.parametrize("spec", [t for t in TOPOLOGY.tables if t.global_indexes], ids=lambda t: t.id)
def test_table_has_the_global_indexes_of_the_topology(template: Template, spec: Table) -> None:
    # GIVEN a table with global indexes in the topology (the alerts read model: per account, and newest first)
    # THEN each index has the topology's keys and projection, and its key attributes are declared
    indexes = []
    attributes: dict[str, str] = {}
    for index in spec.global_indexes:
        keys = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
        attributes[index.partition_key.name] = index.partition_key.type
        if index.sort_key:
            keys.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
            attributes[index.sort_key.name] = index.sort_key.type
        indexes.append({"IndexName": index.name, "KeySchema": keys, "Projection": {"ProjectionType": index.projection}})
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": indexes,
            "AttributeDefinitions": Match.array_with(
                [{"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()]
            ),
        },
    )


def test_alerts_table_has_the_account_and_newest_first_indexes_the_read_api_queries(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    Match.object_like({"IndexName": "by_account"}),
                    Match.object_like({"IndexName": "newest"}),
                ]
            )
        },
    )


@pytest.mark.parametrize("spec", [t for t in TOPOLOGY.tables if t.ttl_attribute], ids=lambda t: t.id)
def test_table_expires_items_through_the_topology_ttl_attribute(template: Template, spec: Table) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            **_keyed_by(spec),
            "TimeToLiveSpecification": {"AttributeName": spec.ttl_attribute, "Enabled": True},
        },
    )


@pytest.mark.parametrize("spec", TOPOLOGY.tables, ids=lambda t: t.id)
def test_every_table_is_on_demand_recoverable_and_protected(template: Template, spec: Table) -> None:
    # GIVEN a table of the topology WHEN synthesized THEN nothing short of a deliberate act can lose its data: kept
    # when the stack is deleted or the table replaced, deleted only by the rollback of the deploy that created it
    # (new and empty then: nothing to keep, and nothing left behind by a failed first deploy)
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    **_keyed_by(spec),
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "DeletionProtectionEnabled": True,
                }
            ),
        },
    )


@pytest.mark.parametrize("spec", TOPOLOGY.tables, ids=lambda t: t.id)
def test_every_table_is_encrypted_with_a_rotated_customer_managed_key(template: Template, spec: Table) -> None:
    key = Capture()
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            **_keyed_by(spec),
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
            },
        },
    )
    rotated_and_retained = template.find_resources(
        "AWS::KMS::Key",
        {
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like({"EnableKeyRotation": True}),
        },
    )
    assert key.as_string() in rotated_and_retained
