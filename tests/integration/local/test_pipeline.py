"""The local pipeline on moto (server mode, in this process): its resources, the shard readers of both stream kinds,
and the event source mappings end to end with functions written here (the real handlers are the e2e suite's)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.model import EventSource, Function, KinesisStream, Table, Topic, Topology
from infra.topology import EVENTS, ONLY_EVENTS
from local.dynamodb_streams import StreamCursor
from local.lambdas import FunctionError
from local.moto_server import MotoServer
from local.pipeline import STATUS_FILE, Pipeline
from local.resources import create_table, enable_stream
from local.sources import DynamoDBShardReader, KinesisShardReader

REGION = "us-east-1"
STREAM = KinesisStream("moves", "it-moves", "MOVES_STREAM_NAME", "test stream", "account_id", shards=2)
TOPIC = Topic("news", "it-news", "NEWS_TOPIC_ARN", "test topic")
TABLE = Table(
    id="it-events",
    env_var="IT_EVENTS",
    description="events",
    partition_key=EVENTS.partition_key,
    sort_key=EVENTS.sort_key,
    stream="NEW_IMAGE",
)


def source(kind: str, name: str, **settings: Any) -> EventSource:
    values: dict[str, Any] = {
        "batch_size": 10,
        "max_batching_window_seconds": 0,
        "retry_attempts": 1,
        "max_record_age_seconds": 3600,
        "rationale": "a test",
    }
    return EventSource(kind=kind, source=name, **{**values, **settings})  # type: ignore[arg-type]


TOPOLOGY = Topology(
    tables=(TABLE,),
    functions=(
        Function(
            "projector-it",
            "tests.none.handler",
            "reads the table's stream",
            event_sources=(source("dynamodb", "it-events", filters=(ONLY_EVENTS,)),),
        ),
        Function(
            "mover-it", "tests.none.handler", "reads the Kinesis stream", event_sources=(source("kinesis", "moves"),)
        ),
    ),
    streams=(STREAM,),
    topics=(TOPIC,),
)


@dataclass
class Recorder:
    """A function: records what it is given; fails (as Powertools would) on records whose data is `poison`."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], request_id: str) -> Any:
        with self.lock:
            self.events.append(event)
        failed = [
            r["kinesis"]["sequenceNumber"]
            for r in event["Records"]
            if "kinesis" in r and base64.b64decode(r["kinesis"]["data"]) == b"poison"
        ]
        if failed and len(failed) == len(event["Records"]):
            raise FunctionError("BatchProcessingError: All records failed processing.")
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}

    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [record for event in self.events for record in event["Records"]]


@dataclass
class Moto:
    server: MotoServer
    clients: Callable[[str], Any]


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = MotoServer("127.0.0.1", 0)
    server.start()

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=server.url, region_name=REGION)  # type: ignore[call-overload]

    try:
        yield Moto(server, client)
    finally:
        server.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pipeline(moto: Moto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Recorder, Recorder]]:
    dynamodb = moto.clients("dynamodb")
    create_table(dynamodb, TABLE, with_stream=False)
    enable_stream(dynamodb, TABLE)
    status = tmp_path_factory.mktemp("pipeline") / STATUS_FILE
    running = Pipeline(TOPOLOGY, moto.server, endpoint_url=moto.server.url, region=REGION, status_path=status)
    running.create_resources()
    projector, mover = Recorder(), Recorder()
    running.start({"projector-it": projector, "mover-it": mover})
    try:
        yield running, projector, mover
    finally:
        running.close()


def put_item(moto: Moto, aggregate_id: str, seq: int, kind: str) -> None:
    moto.clients("dynamodb").put_item(
        TableName=TABLE.local_name,
        Item={"aggregate_id": {"S": aggregate_id}, "seq": {"N": str(seq)}, "kind": {"S": kind}},
    )


def test_the_resources_are_made_and_the_topic_reaches_its_queues(
    moto: Moto, pipeline: tuple[Pipeline, Recorder, Recorder]
) -> None:
    running, _, _ = pipeline
    sqs, sns = moto.clients("sqs"), moto.clients("sns")
    # THEN each mapping has an on-failure queue, and the Kinesis stream has its shards
    assert sorted(running.queues.failures) == ["mover-it <- it-moves", "projector-it <- ledger-it-events"]
    assert all(url.endswith("-dlq") for url in running.queues.failures.values())
    assert len(moto.clients("kinesis").list_shards(StreamName=STREAM.name)["Shards"]) == 2
    # WHEN a message is published to the topic
    topic = sns.create_topic(Name=TOPIC.name)["TopicArn"]
    sns.publish(TopicArn=topic, Subject="hello", Message=json.dumps({"alert_id": "a1"}))
    # THEN the people's queue holds it in SNS's envelope, and the runtime logs (and drains) its own copy
    url = running.queues.notifications["news"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    envelope = json.loads(message["Body"])
    assert (envelope["Type"], envelope["Subject"], json.loads(envelope["Message"])) == (
        "Notification",
        "hello",
        {"alert_id": "a1"},
    )
    wait_for(lambda: running.status()["notifications_logged"] == 1)
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 1  # still there


def test_table_writes_reach_the_dynamodb_consumer_as_lambda_records_filtered(
    moto: Moto, pipeline: tuple[Pipeline, Recorder, Recorder]
) -> None:
    _, projector, _ = pipeline
    # WHEN an event, a snapshot and another event are written
    put_item(moto, "acc-1", 1, "event")
    put_item(moto, "acc-1", 2, "snapshot")
    put_item(moto, "acc-1", 3, "event")
    # THEN the consumer gets the two events, in order, shaped as Lambda's DynamoDB records
    wait_for(lambda: len(projector.records()) >= 2)
    records = projector.records()
    assert [r["dynamodb"]["Keys"]["seq"]["N"] for r in records] == ["1", "3"]
    stream_arn = moto.clients("dynamodb").describe_table(TableName=TABLE.local_name)["Table"]["LatestStreamArn"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == stream_arn
        assert record["dynamodb"]["NewImage"]["kind"] == {"S": "event"}
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)


def test_a_poison_record_goes_to_the_on_failure_queue_and_its_shard_keeps_flowing(
    moto: Moto, pipeline: tuple[Pipeline, Recorder, Recorder], tmp_path: Path
) -> None:
    running, _, mover = pipeline
    kinesis, sqs = moto.clients("kinesis"), moto.clients("sqs")
    # GIVEN a good record, a poison record and a good record on one partition key (so one shard)
    sequence = {}
    for data in (b"before", b"poison", b"after"):
        response = kinesis.put_record(StreamName=STREAM.name, PartitionKey="acc-9", Data=data)
        sequence[data] = response["SequenceNumber"]
        shard_id = response["ShardId"]
    # THEN after its retries the poison record's batch is on the mapping's on-failure queue
    url = running.queues.failures["mover-it <- it-moves"]
    messages: list[dict[str, Any]] = []

    def failure_arrived() -> bool:
        messages.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))
        return bool(messages)

    wait_for(failure_arrived)
    failure = json.loads(messages[0]["Body"])
    info = failure["KinesisBatchInfo"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"].endswith(":function:ledger-mover-it")
    assert info["shardId"] == shard_id
    assert info["startSequenceNumber"] == sequence[b"poison"]
    assert info["streamArn"] == f"arn:aws:kinesis:{REGION}:123456789012:stream/{STREAM.name}"
    # AND records before and after it were delivered, and a later one is too
    kinesis.put_record(StreamName=STREAM.name, PartitionKey="acc-9", Data=b"later")
    wait_for(lambda: b"later" in [base64.b64decode(r["kinesis"]["data"]) for r in mover.records()])
    delivered = {base64.b64decode(r["kinesis"]["data"]) for r in mover.records()}
    assert {b"before", b"after", b"later"} <= delivered
    # AND the status says so, per shard
    (mapping,) = [
        m for m in running.status()["mappings"] if m["mapping"] == "mover-it <- it-moves" and m["shard"] == shard_id
    ]
    assert mapping["discarded_batches"] == 1
    assert mapping["retries"] >= 1


def test_readers_start_at_trim_horizon_or_latest(moto: Moto) -> None:
    kinesis, dynamodb = moto.clients("kinesis"), moto.clients("dynamodb")
    kinesis.create_stream(StreamName="it-positions", ShardCount=1)
    kinesis.put_record(StreamName="it-positions", PartitionKey="k", Data=b"old")
    readers = {
        position: KinesisShardReader(
            kinesis,
            stream_name="it-positions",
            shard_id="shardId-000000000000",
            stream_arn="arn",
            region=REGION,
            invoke_identity_arn="role",
            starting_position=position,
        )
        for position in ("TRIM_HORIZON", "LATEST")
    }
    kinesis.put_record(StreamName="it-positions", PartitionKey="k", Data=b"new")

    def data(records: list[Any]) -> list[bytes]:
        return [base64.b64decode(r.event["kinesis"]["data"]) for r in records]

    assert data(readers["TRIM_HORIZON"].read(100)) == [b"old", b"new"]
    assert data(readers["LATEST"].read(100)) == [b"new"]
    assert readers["TRIM_HORIZON"].read(100) == []

    table = Table("it-positions", "X", "x", EVENTS.partition_key, EVENTS.sort_key, stream="NEW_IMAGE")
    create_table(dynamodb, table)
    put_item_into = {"aggregate_id": {"S": "a"}, "kind": {"S": "event"}}
    dynamodb.put_item(TableName=table.local_name, Item={**put_item_into, "seq": {"N": "1"}})
    latest = DynamoDBShardReader(
        StreamCursor(moto.server, table.local_name, REGION),
        shard_id="s",
        stream_arn="arn",
        region=REGION,
        starting_position="LATEST",
    )
    dynamodb.put_item(TableName=table.local_name, Item={**put_item_into, "seq": {"N": "2"}})
    assert [r.event["dynamodb"]["Keys"]["seq"]["N"] for r in latest.read(100)] == ["2"]


def test_the_status_file_says_when_the_pipeline_is_quiet(pipeline: tuple[Pipeline, Recorder, Recorder]) -> None:
    running, _, _ = pipeline
    path = running.status_path
    assert path is not None
    wait_for(lambda: path.exists() and json.loads(path.read_text())["quiet"])
    status = json.loads(path.read_text())
    assert status["idle_checked_at"] > status["last_activity_at"]
    assert {m["pending"] for m in status["mappings"]} == {0}


def test_the_dynamodb_reader_sees_exactly_the_committed_writes_across_a_cancelled_transaction(moto: Moto) -> None:
    """moto rolls a cancelled transaction back by replacing the table, and its stream, with a copy taken before it:
    the reader must neither hand out the rolled-back write nor skip the write after it."""
    dynamodb = moto.clients("dynamodb")
    table = Table("it-rollback", "X", "x", EVENTS.partition_key, EVENTS.sort_key, stream="NEW_IMAGE")
    create_table(dynamodb, table)
    arn = dynamodb.describe_table(TableName=table.local_name)["Table"]["LatestStreamArn"]
    reader = DynamoDBShardReader(
        StreamCursor(moto.server, table.local_name, REGION), shard_id="s", stream_arn=arn, region=REGION
    )

    def item(seq: int) -> dict[str, Any]:
        return {"aggregate_id": {"S": "a"}, "seq": {"N": str(seq)}, "kind": {"S": "event"}}

    dynamodb.put_item(TableName=table.local_name, Item=item(1))
    assert [r.event["dynamodb"]["Keys"]["seq"]["N"] for r in reader.read(100)] == ["1"]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table.local_name, "Item": item(2)}},
                {
                    "Put": {
                        "TableName": table.local_name,
                        "Item": item(1),
                        "ConditionExpression": "attribute_not_exists(aggregate_id)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName=table.local_name, Item=item(3))
    records = reader.read(100)
    assert [r.event["dynamodb"]["Keys"]["seq"]["N"] for r in records] == ["3"]
    assert records[0].event["eventSourceARN"] == arn
