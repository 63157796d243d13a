"""What every DynamoDB adapter of a read model shares: telling a failed condition apart, and emptying a table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def failed_condition(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def delete_all(client: DynamoDBClient, table: str, key: str | tuple[str, ...]) -> int:
    """Delete every item of `table` (whose key attributes are `key`); how many."""
    deleted = 0
    for batch in _key_batches(client, table, (key,) if isinstance(key, str) else key):
        pending: Any = {table: [{"DeleteRequest": {"Key": k}} for k in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        deleted += len(batch)
    return deleted


def _key_batches(client: DynamoDBClient, table: str, key: tuple[str, ...]) -> Iterator[list[dict[str, Any]]]:
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(key))),
        "ExpressionAttributeNames": {f"#k{i}": name for i, name in enumerate(key)},
    }
    batch: list[dict[str, Any]] = []
    while True:
        response = client.scan(**request)
        for item in response.get("Items", []):
            batch.append({name: item[name] for name in key})
            if len(batch) == 25:
                yield batch
                batch = []
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if batch:
        yield batch
