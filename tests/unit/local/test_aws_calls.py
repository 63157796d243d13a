"""What the local runtime records of each request to moto (local/aws_calls.py): the caller from the signature, the
IAM action and the resource IAM authorizes it on. The requests are the SDK's own, signed and captured before they
would be sent."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest

from infra.topology import TOPOLOGY
from local.aws_calls import ANY, CALLS_FILE_VARIABLE, Call, CallRecorder, calls_of_request, read_calls, recording
from local.environment import function_access_key, function_environment

REGION = "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:123456789012:table"


class _CapturedError(Exception):
    """Raised where boto3 would send the request: what was recorded of it."""

    def __init__(self, calls: list[Call]) -> None:
        super().__init__("captured")
        self.calls = calls


def calls(service: str, operation: str, caller: str = "local-commands", **parameters: Any) -> list[Call]:
    """The calls recorded for the request boto3 signs for `operation` (never sent)."""
    client: Any = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url="http://127.0.0.1:1",
        aws_access_key_id=caller,
        aws_secret_access_key="local",
    )

    def capture(request: Any, **_: Any) -> None:
        headers = {
            key.lower(): value.decode() if isinstance(value, bytes) else value for key, value in request.headers.items()
        }
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        raise _CapturedError(calls_of_request(headers, urlparse(request.url).query, body))

    client.meta.events.register("before-send", capture)
    with pytest.raises(_CapturedError) as captured:
        getattr(client, operation)(**parameters)
    return captured.value.calls


def test_a_put_is_the_callers_put_item_on_the_tables_arn() -> None:
    assert calls("dynamodb", "put_item", TableName="ledger-events", Item={"aggregate_id": {"S": "a"}}) == [
        Call("local-commands", "dynamodb:PutItem", f"{TABLE}/ledger-events")
    ]


def test_a_query_of_an_index_is_authorized_on_the_index() -> None:
    query = {"KeyConditionExpression": "feed = :f", "ExpressionAttributeValues": {":f": {"S": "x"}}}
    assert calls("dynamodb", "query", "local-queries", TableName="ledger-alerts", IndexName="newest", **query) == [
        Call("local-queries", "dynamodb:Query", f"{TABLE}/ledger-alerts/index/newest")
    ]
    assert calls("dynamodb", "query", "local-queries", TableName="ledger-alerts", **query) == [
        Call("local-queries", "dynamodb:Query", f"{TABLE}/ledger-alerts")
    ]


def test_a_transaction_is_each_write_it_holds_on_its_own_table() -> None:
    items = [
        {"Put": {"TableName": "ledger-events", "Item": {"k": {"S": "1"}}}},
        {"Update": {"TableName": "ledger-sales", "Key": {"k": {"S": "1"}}, "UpdateExpression": "SET a = :a",
                    "ExpressionAttributeValues": {":a": {"N": "1"}}}},
        {"Delete": {"TableName": "ledger-orders", "Key": {"k": {"S": "1"}}}},
        {"ConditionCheck": {"TableName": "ledger-idempotency", "Key": {"k": {"S": "1"}},
                            "ConditionExpression": "attribute_exists(k)"}},
    ]  # fmt: skip
    assert calls("dynamodb", "transact_write_items", TransactItems=items) == [
        Call("local-commands", "dynamodb:PutItem", f"{TABLE}/ledger-events"),
        Call("local-commands", "dynamodb:UpdateItem", f"{TABLE}/ledger-sales"),
        Call("local-commands", "dynamodb:DeleteItem", f"{TABLE}/ledger-orders"),
        Call("local-commands", "dynamodb:ConditionCheckItem", f"{TABLE}/ledger-idempotency"),
    ]


def test_a_batch_write_is_authorized_on_each_table_it_writes() -> None:
    requests = {name: [{"DeleteRequest": {"Key": {"k": {"S": "1"}}}}] for name in ("ledger-a", "ledger-b")}
    assert calls("dynamodb", "batch_write_item", "local", RequestItems=requests) == [
        Call("local", "dynamodb:BatchWriteItem", f"{TABLE}/ledger-a"),
        Call("local", "dynamodb:BatchWriteItem", f"{TABLE}/ledger-b"),
    ]


def test_dynamodb_streams_calls_are_dynamodb_actions_on_the_stream() -> None:
    stream = f"{TABLE}/ledger-events/stream/2024-01-01T00:00:00.000"
    assert calls("dynamodbstreams", "describe_stream", "local", StreamArn=stream) == [
        Call("local", "dynamodb:DescribeStream", stream)
    ]
    assert calls("dynamodbstreams", "get_records", "local", ShardIterator=f"{stream}|1|abc") == [
        Call("local", "dynamodb:GetRecords", stream)
    ]
    assert calls("dynamodbstreams", "list_streams", "local") == [Call("local", "dynamodb:ListStreams", ANY)]


def test_kinesis_calls_name_the_stream_by_name_arn_or_shard_iterator() -> None:
    stream = f"arn:aws:kinesis:{REGION}:123456789012:stream/orders"
    records = [{"Data": b"{}", "PartitionKey": "a"}]
    assert calls("kinesis", "put_records", "local-publisher", StreamName="orders", Records=records) == [
        Call("local-publisher", "kinesis:PutRecords", stream)
    ]
    assert calls("kinesis", "put_records", "local-publisher", StreamARN=stream, Records=records) == [
        Call("local-publisher", "kinesis:PutRecords", stream)
    ]
    iterator = base64.encodebytes(b"orders:shardId-000000000000:0").decode()  # as moto composes it
    assert calls("kinesis", "get_records", "local", ShardIterator=iterator) == [
        Call("local", "kinesis:GetRecords", stream)
    ]


def test_a_publish_is_on_the_topic_and_a_send_on_the_queue_its_url_names() -> None:
    topic = f"arn:aws:sns:{REGION}:123456789012:account-notifications"
    assert calls("sns", "publish", "local-notifications", TopicArn=topic, Message="{}") == [
        Call("local-notifications", "sns:Publish", topic)
    ]
    url = "http://127.0.0.1:4566/123456789012/ledger-fraud-transactions-dlq"
    assert calls("sqs", "send_message", "local", QueueUrl=url, MessageBody="{}") == [
        Call("local", "sqs:SendMessage", f"arn:aws:sqs:{REGION}:123456789012:ledger-fraud-transactions-dlq")
    ]


def test_what_names_no_resource_is_recorded_on_any_resource() -> None:
    assert calls("dynamodb", "list_tables", "local") == [Call("local", "dynamodb:ListTables", ANY)]
    assert calls_of_request({}, "", b"") == [Call("", "unsigned:request", ANY)]


def test_each_function_signs_with_an_access_key_of_its_own() -> None:
    keys = {
        function_environment(TOPOLOGY, function, endpoint_url="http://127.0.0.1:4566", region=REGION)[
            "AWS_ACCESS_KEY_ID"
        ]
        for function in TOPOLOGY.functions
    }
    assert keys == {function_access_key(function) for function in TOPOLOGY.functions}
    assert len(keys) == len(TOPOLOGY.functions)
    assert Call("local-order-fraud", "dynamodb:PutItem", ANY).function_id == "order-fraud"
    assert Call("local", "dynamodb:PutItem", ANY).function_id is None


def _environ(body: bytes, target: str) -> dict[str, Any]:
    authorization = "AWS4-HMAC-SHA256 Credential=local-alerts/20240101/us-east-1/dynamodb/aws4_request, Signature=x"
    return {
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": authorization,
        "HTTP_X_AMZ_TARGET": target,
        "QUERY_STRING": "",
    }


def test_the_recorder_appends_each_distinct_call_once_and_hands_the_request_on_intact(tmp_path: Path) -> None:
    # GIVEN a recorder in front of an app that reads the body
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        return [b"{}"]

    path = tmp_path / "data" / "aws-calls.jsonl"
    recorder = CallRecorder(app, path)
    body = json.dumps({"TableName": "ledger-alerts", "Item": {}}).encode()
    put = {"Put": {"TableName": "ledger-alerts", "Item": {}}}
    transaction = json.dumps({"TransactItems": [put, put]}).encode()
    # WHEN the same put arrives twice, then a get, then a transaction of two puts
    for target, sent in (
        ("DynamoDB_20120810.PutItem", body),
        ("DynamoDB_20120810.PutItem", body),
        ("DynamoDB_20120810.GetItem", body),
        ("DynamoDB_20120810.TransactWriteItems", transaction),
    ):
        recorder(_environ(sent, target), lambda *_: None)
    # THEN the app read each body whole, and the file holds the put and the get once each
    assert seen == [body, body, body, transaction]
    assert read_calls(path) == [
        Call("local-alerts", "dynamodb:PutItem", f"{TABLE}/ledger-alerts"),
        Call("local-alerts", "dynamodb:GetItem", f"{TABLE}/ledger-alerts"),
    ]


def test_recording_is_off_unless_the_variable_names_a_file(tmp_path: Path) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return []

    assert recording(app, {}) is app
    wrapped = recording(app, {CALLS_FILE_VARIABLE: str(tmp_path / "calls.jsonl")})
    assert isinstance(wrapped, CallRecorder)
    assert wrapped.path == tmp_path / "calls.jsonl"
