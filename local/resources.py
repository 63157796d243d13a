"""Create the topology's tables with boto3 (on moto, for the local runtime, the tests and the benchmark)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.topology import TOPOLOGY, Table, Topology

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_table(client: DynamoDBClient, table: Table, name: str | None = None) -> str:
    """Create `table` as the topology describes it (keys, local indexes, stream, TTL); returns its name."""
    name = name or table.local_name
    keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    attributes = {key.name: key.type for key in keys}
    attributes.update({index.sort_key.name: index.sort_key.type for index in table.local_indexes})
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "KeySchema": [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
        + ([{"AttributeName": table.sort_key.name, "KeyType": "RANGE"}] if table.sort_key else []),
    }
    if table.local_indexes:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": table.partition_key.name, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key.name, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.local_indexes
        ]
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    client.create_table(**request)
    if table.ttl_attribute:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )
    return name


def create_tables(client: DynamoDBClient, topology: Topology = TOPOLOGY, prefix: str = "") -> dict[str, str]:
    """Create every table of the topology; returns {Table.env_var: table name} for the functions' environment."""
    return {table.env_var: create_table(client, table, prefix + table.local_name) for table in topology.tables}
