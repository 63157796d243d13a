"""What Lambda hands a stream consumer and what it sends to an on-failure destination, for both stream kinds.

- `dynamodb_record`: one element of a DynamoDB Streams event's `Records` from a record moto's stream holds (moto's
  `eventID` and images; Lambda's `eventVersion`, `eventSourceARN`, `awsRegion`; the creation time as epoch seconds).
- `kinesis_record`: one element of a Kinesis event's `Records` from a GetRecords record (data base64-encoded).
- `on_failure_record`: the JSON Lambda sends an SQS on-failure destination when it gives up on a batch of a stream:
  request and response context, and the batch's `DDBStreamBatchInfo` or `KinesisBatchInfo` (the records themselves
  are not in it; they stay readable on the stream until its retention ends).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from local.dynamodb_streams import wire_json

StreamKind = Literal["dynamodb", "kinesis"]
Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]
Precision = Literal["seconds", "milliseconds"]


@dataclass(frozen=True)
class StreamRecord:
    """A record read from a shard: what the consumer is invoked with, and what the poller needs to know of it."""

    sequence_number: str
    arrival: float  # epoch seconds: when the record reached the stream
    event: dict[str, Any]  # the element of the event's `Records`

    @property
    def order(self) -> int:
        return int(self.sequence_number)


def dynamodb_record(raw: Mapping[str, Any], *, stream_arn: str, region: str) -> StreamRecord:
    """A record of moto's DynamoDB stream (`MotoServer.stream_records`) as Lambda delivers it."""
    change = raw["dynamodb"]
    created = epoch_seconds(change["ApproximateCreationDateTime"])
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(created),
        "Keys": wire_json(change["Keys"]),
    }
    for image in ("NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = wire_json(change[image])
    dynamodb |= {
        "SequenceNumber": change["SequenceNumber"],
        "SizeBytes": change["SizeBytes"],
        "StreamViewType": change["StreamViewType"],
    }
    event = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    return StreamRecord(change["SequenceNumber"], created, event)


def kinesis_record(
    raw: Mapping[str, Any], *, shard_id: str, stream_arn: str, region: str, invoke_identity_arn: str
) -> StreamRecord:
    """A GetRecords record (boto3's: `Data` as bytes, the arrival time as a datetime) as Lambda delivers it."""
    sequence_number = str(raw["SequenceNumber"])
    arrival = epoch_seconds(raw["ApproximateArrivalTimestamp"])
    event = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(raw["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": round(arrival, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
    return StreamRecord(sequence_number, arrival, event)


def on_failure_record(
    kind: StreamKind,
    batch: Sequence[StreamRecord],
    *,
    condition: Condition,
    function_arn: str,
    shard_id: str,
    stream_arn: str,
    invoke_count: int,
    function_error: bool,
    now: float,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The invocation record Lambda sends an on-failure destination when it discards `batch` (in shard order)."""
    first, last = batch[0], batch[-1]
    precision: Precision = "milliseconds" if kind == "kinesis" else "seconds"
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(now, "milliseconds"),
        "KinesisBatchInfo" if kind == "kinesis" else "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": _iso(first.arrival, precision),
            "approximateArrivalOfLastRecord": _iso(last.arrival, precision),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


def epoch_seconds(moment: datetime | float | int) -> float:
    """A stream record's time as epoch seconds (moto's are naive UTC datetimes, boto3's aware ones)."""
    if isinstance(moment, int | float):
        return float(moment)
    if moment.tzinfo is None:  # moto's stream records carry naive UTC times
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(epoch: float, precision: Precision) -> str:
    text = datetime.fromtimestamp(epoch, UTC).isoformat(timespec=precision)
    return text.replace("+00:00", "Z")
