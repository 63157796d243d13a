"""The Lambda event shapes the local runtime builds, and the on-failure record it sends (local/stream_events.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from local.stream_events import dynamodb_record, kinesis_record, on_failure_record

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/ledger-events/stream/2026-01-01T00:00:00"


def moto_stream_record() -> dict[str, Any]:
    """A record as moto's stream shard holds it: naive UTC time, binary attributes as bytes."""
    return {
        "eventID": "4b0c5f1e9a",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.0",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "StreamViewType": "NEW_IMAGE",
            "ApproximateCreationDateTime": datetime(2026, 1, 2, 3, 4, 5, 600000),
            "SequenceNumber": "1100000000017454423009",
            "SizeBytes": 120,
            "Keys": {"aggregate_id": {"S": "acc-1"}, "seq": {"N": "1"}},
            "NewImage": {"aggregate_id": {"S": "acc-1"}, "seq": {"N": "1"}, "state": {"B": b"\x00\x01"}},
        },
    }


def test_a_dynamodb_record_is_shaped_as_lambda_delivers_it() -> None:
    record = dynamodb_record(moto_stream_record(), stream_arn=STREAM_ARN, region="eu-west-1")
    event = record.event
    assert event == {
        "eventID": "4b0c5f1e9a",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767323045,
            "Keys": {"aggregate_id": {"S": "acc-1"}, "seq": {"N": "1"}},
            "NewImage": {
                "aggregate_id": {"S": "acc-1"},
                "seq": {"N": "1"},
                "state": {"B": base64.b64encode(b"\x00\x01").decode()},
            },
            "SequenceNumber": "1100000000017454423009",
            "SizeBytes": 120,
            "StreamViewType": "NEW_IMAGE",
        },
    }
    assert record.sequence_number == "1100000000017454423009"
    assert record.arrival == datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC).timestamp()


def test_a_kinesis_record_is_shaped_as_lambda_delivers_it() -> None:
    raw = {
        "SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
        "ApproximateArrivalTimestamp": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "Data": b'{"event_id": "e1"}',
        "PartitionKey": "acc-1",
    }
    record = kinesis_record(
        raw,
        shard_id="shardId-000000000000",
        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/account-transactions",
        region="us-east-1",
        invoke_identity_arn="arn:aws:iam::123456789012:role/ledger-fraud-role",
    )
    assert record.event == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "acc-1",
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(b'{"event_id": "e1"}').decode(),
            "approximateArrivalTimestamp": 1767323045.678,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{raw['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/ledger-fraud-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/account-transactions",
    }


def test_the_on_failure_record_of_a_dynamodb_batch() -> None:
    first = dynamodb_record(moto_stream_record(), stream_arn=STREAM_ARN, region="us-east-1")
    record = on_failure_record(
        "dynamodb",
        [first],
        condition="RetryAttemptsExhausted",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:ledger-projector",
        shard_id="shardId-00000001541626099285-f35f62ef",
        stream_arn=STREAM_ARN,
        invoke_count=11,
        function_error=True,
        now=datetime(2026, 1, 2, 3, 5, 0, 250000, tzinfo=UTC).timestamp(),
        request_id="r-1",
    )
    assert record == {
        "requestContext": {
            "requestId": "r-1",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:ledger-projector",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 11,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-01-02T03:05:00.250Z",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001541626099285-f35f62ef",
            "startSequenceNumber": "1100000000017454423009",
            "endSequenceNumber": "1100000000017454423009",
            "approximateArrivalOfFirstRecord": "2026-01-02T03:04:05Z",
            "approximateArrivalOfLastRecord": "2026-01-02T03:04:05Z",
            "batchSize": 1,
            "streamArn": STREAM_ARN,
        },
    }
