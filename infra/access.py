"""Least-privilege IAM statements from the topology's per-function table access.

Only the actions the topology lists, only on the table's ARN (and on its named indexes where the access says so),
plus the KMS operations DynamoDB performs with the caller's credentials on the tables' customer-managed key, and
only through DynamoDB (kms:ViaService). Deliberately not `Table.grant_read_data` and friends: those add Scan,
BatchGetItem, ConditionCheckItem, DescribeTable and wildcard KMS actions nobody asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

from infra.topology import Function, Topology

# Actions that change items. TransactWriteItems is not an IAM action: each item of a transaction is authorized as
# the PutItem/UpdateItem/DeleteItem/ConditionCheckItem it contains.
WRITE_ACTIONS: Final = frozenset(
    {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
)
# DynamoDB decrypts the table key with the caller's credentials on every access; writers also encrypt.
KMS_READ_ACTIONS: Final = ("kms:Decrypt", "kms:DescribeKey")
KMS_WRITE_ACTIONS: Final = (*KMS_READ_ACTIONS, "kms:Encrypt", "kms:GenerateDataKey")


def function_statements(
    function: Function, topology: Topology, tables: Mapping[str, dynamodb.ITable]
) -> list[iam.PolicyStatement]:
    """One statement per table the function uses, one per KMS key behind those tables."""
    statements: list[iam.PolicyStatement] = []
    key_actions: dict[str, set[str]] = {}
    for access in function.access:
        spec, table = topology.table(access.table), tables[access.table]
        resources = [table.table_arn]
        if access.indexes:
            resources += [f"{table.table_arn}/index/{index.name}" for index in spec.local_indexes]
        statements.append(
            iam.PolicyStatement(sid=f"{_pascal(spec.id)}Table", actions=sorted(access.actions), resources=resources)
        )
        if table.encryption_key is not None:
            writes = WRITE_ACTIONS.intersection(access.actions)
            actions = key_actions.setdefault(table.encryption_key.key_arn, set())
            actions.update(KMS_WRITE_ACTIONS if writes else KMS_READ_ACTIONS)
    for number, (key_arn, actions) in enumerate(key_actions.items(), start=1):
        statements.append(
            iam.PolicyStatement(
                sid="TableKey" if number == 1 else f"TableKey{number}",
                actions=sorted(actions),
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.amazonaws.com"}},
            )
        )
    return statements


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
