"""The local runtime's moto transactions back up only what they touch: a transaction that commits writes all of its
items and stream records; one that is cancelled leaves every item and the stream as they were; and a long table
costs a transaction no more than a short one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from infra.topology import EVENTS
from local.moto_transactions import install
from local.resources import create_tables

NOT_EXISTS = "attribute_not_exists(aggregate_id)"


@pytest.fixture
def events() -> Iterator[tuple[Any, str]]:
    install()
    with mock_aws():
        client = boto3.client("dynamodb")
        yield client, create_tables(client)[EVENTS.env_var]


def put(table: str, stream: str, seq: int, **extra: Any) -> dict[str, Any]:
    item = {"aggregate_id": {"S": stream}, "seq": {"N": str(seq)}, "kind": {"S": "event"}} | extra
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": NOT_EXISTS}}


def stream_length(table: str) -> int:
    shard = dynamodb_backends["123456789012"]["us-east-1"].get_table(table).stream_shard
    assert shard is not None
    return len(shard.items)


def test_a_committed_transaction_writes_every_item_and_stream_record(events: tuple[Any, str]) -> None:
    client, table = events
    client.transact_write_items(TransactItems=[put(table, "a", 1), put(table, "a", 2), put(table, "b", 1)])
    assert len(client.scan(TableName=table)["Items"]) == 3
    assert stream_length(table) == 3


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(events: tuple[Any, str]) -> None:
    client, table = events
    client.put_item(TableName=table, Item=put(table, "a", 1, note={"S": "first"})["Put"]["Item"])
    client.put_item(TableName=table, Item=put(table, "b", 1)["Put"]["Item"])
    before = sorted(str(item) for item in client.scan(TableName=table)["Items"])
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(  # the new item lands first, then the taken version cancels everything
            TransactItems=[put(table, "c", 1), put(table, "a", 2), put(table, "b", 1, note={"S": "overwrite"})]
        )
    assert sorted(str(item) for item in client.scan(TableName=table)["Items"]) == before
    assert stream_length(table) == 2
    client.transact_write_items(TransactItems=[put(table, "c", 1)])  # the cancelled key is free again
    assert stream_length(table) == 3


def test_no_table_is_copied_whatever_its_length(events: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, table = events
    for n in range(50):
        client.put_item(TableName=table, Item=put(table, f"s{n}", 1)["Put"]["Item"])
    copied: list[str] = []
    real_deepcopy = copy.deepcopy

    def spying_deepcopy(value: Any, *args: Any) -> Any:
        copied.append(type(value).__name__)
        return real_deepcopy(value, *args)

    monkeypatch.setattr(copy, "deepcopy", spying_deepcopy)
    client.transact_write_items(TransactItems=[put(table, "t", 1), put(table, "t", 2)])
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[put(table, "u", 1), put(table, "t", 1)])

    assert "Table" not in copied  # moto's own backup copies the whole table (and its stream) for each item
    assert len(client.scan(TableName=table)["Items"]) == 52
