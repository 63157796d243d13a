"""Create the topology's tables with boto3 (on moto, for the local runtime, the tests and the benchmark).

The local runtime creates its tables without streams, puts the journal's items back, then turns the streams on with
`enable_stream`: a stream then carries this run's writes only, and a reload is not replayed to stream readers as new
writes. A durable table the topology gives no stream gets a NEW_IMAGE stream locally (see `local_stream_view`): the
journal reads it; the deployed table has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.topology import TOPOLOGY, StreamView, Table, Topology

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_table(client: DynamoDBClient, table: Table, name: str | None = None, *, with_stream: bool = True) -> str:
    """Create `table` as the topology describes it (keys, local indexes, stream, TTL); returns its name.

    `with_stream=False` leaves the stream out, for `enable_stream` to add later."""
    name = name or table.local_name
    keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    attributes = {key.name: key.type for key in keys}
    attributes.update({index.sort_key.name: index.sort_key.type for index in table.local_indexes})
    for global_index in table.global_indexes:
        attributes.update({key.name: key.type for key in (global_index.partition_key, global_index.sort_key) if key})
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
    if table.global_indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sort_key.name, "KeyType": "RANGE"}] if index.sort_key else []),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.global_indexes
        ]
    if table.stream and with_stream:
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


def local_stream_view(table: Table) -> StreamView | None:
    """The stream view of the local copy of `table`: the topology's, else NEW_IMAGE for a table the local runtime
    journals (local only), else none."""
    return table.stream or ("NEW_IMAGE" if table.durable_locally else None)


def enable_stream(client: DynamoDBClient, table: Table, name: str | None = None) -> str | None:
    """Turn on the stream of a table created `with_stream=False` (view: `local_stream_view`); returns its ARN."""
    view = local_stream_view(table)
    if view is None:
        return None
    response = client.update_table(
        TableName=name or table.local_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return response["TableDescription"].get("LatestStreamArn")
