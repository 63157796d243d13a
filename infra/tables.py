"""The topology's DynamoDB tables (the event store, idempotency records, read models), built from the topology and
encrypted with one customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.topology import Key, Table, Topology

_ATTRIBUTE_TYPES: Mapping[str, dynamodb.AttributeType] = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
}
_PROJECTIONS: Mapping[str, dynamodb.ProjectionType] = {
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "ALL": dynamodb.ProjectionType.ALL,
}
_STREAM_VIEWS: Mapping[str, dynamodb.StreamViewType] = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
}


class Tables(Construct):
    """Every table of the topology: on-demand, point-in-time recovery, KMS (customer-managed key, rotated),
    retained on stack deletion and protected against deletion. Events are the system of record: losing the
    table loses the ledger, so nothing here can be removed by a `cdk destroy` or a replacement. Retained on update or
    delete only (`RetainExceptOnCreate`): a first deploy that rolls back deletes what it created (new, empty), rather
    than leaving orphaned tables and a key behind for every failed attempt.

    The read models (accounts, alerts, reports) get the same protections although `ledger.rebuild` can replay them
    from the events: a rebuild of a large ledger takes a while during which the read API answers from an empty
    table, point-in-time recovery is the faster repair, and the notifications table is no read model at all (it is
    what keeps a redelivered alert from notifying twice). On-demand tables cost nothing while idle."""

    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the ledger's DynamoDB tables (events, idempotency, read models) and their streams",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.tables: Mapping[str, dynamodb.Table] = MappingProxyType(
            {table.id: self._table(table) for table in topology.tables}
        )

    def _table(self, spec: Table) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.id,
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            stream=_STREAM_VIEWS[spec.stream] if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
        )
        for index in spec.local_indexes:
            table.add_local_secondary_index(
                index_name=index.name,
                sort_key=_attribute(index.sort_key),
                projection_type=_PROJECTIONS[index.projection],
            )
        for global_index in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=global_index.name,
                partition_key=_attribute(global_index.partition_key),
                sort_key=_attribute(global_index.sort_key) if global_index.sort_key else None,
                projection_type=_PROJECTIONS[global_index.projection],
            )
        return table


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])
