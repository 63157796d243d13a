"""What a restart gives back to the event source mappings, on moto (server mode, in this process): the records after
the lowest checkpoint of a stream's mappings, with their own sequence numbers, and the next writes numbered after
them. A restart is played by dropping the stream or table (moto's memory) and reloading the journal into a new one."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.model import KinesisStream, Table
from infra.topology import EVENTS
from local.dynamodb_streams import StreamCursor
from local.journal import Journal, JournalError
from local.kinesis_journal import KinesisJournal
from local.moto_server import MotoServer
from local.resources import create_table
from local.sources import KinesisShardReader

REGION = "us-east-1"
SHARD = "shardId-000000000000"


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[MotoServer, Callable[[str], Any]]]:
    server = MotoServer("127.0.0.1", 0)
    server.start()

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=server.url, region_name=REGION)  # type: ignore[call-overload]

    try:
        yield server, client
    finally:
        server.stop()


def test_kinesis_records_not_finished_by_every_mapping_come_back_with_their_numbers_and_times(
    moto: tuple[MotoServer, Callable[[str], Any]], tmp_path: Path
) -> None:
    _, client = moto
    kinesis = client("kinesis")
    stream = KinesisStream("resume", "it-resume-moves", "X", "a test stream", "key")
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    # GIVEN five records journaled, and a stream whose mappings' lowest checkpoint is the second record
    first = KinesisJournal(tmp_path, (stream,), REGION, poll_seconds=60)
    first.restore(lambda name: {})
    first.start(kinesis)
    numbers = [
        kinesis.put_record(StreamName=stream.name, PartitionKey="k", Data=f"r{i}".encode())["SequenceNumber"]
        for i in range(5)
    ]
    before = KinesisShardReader(
        kinesis, stream_name=stream.name, shard_id=SHARD, stream_arn="arn", region=REGION, invoke_identity_arn="r"
    ).read(100)
    first.close()
    # WHEN the runtime restarts: an empty stream, then the journal reloaded
    kinesis.delete_stream(StreamName=stream.name)
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    second = KinesisJournal(tmp_path, (stream,), REGION, poll_seconds=60)
    assert second.restore(lambda name: {SHARD: int(numbers[1])}) == {stream.name: 3}
    second.start(kinesis)
    # THEN a mapping resuming after its checkpoint reads the records after it as they were
    reader = KinesisShardReader(
        kinesis,
        stream_name=stream.name,
        shard_id=SHARD,
        stream_arn="arn",
        region=REGION,
        invoke_identity_arn="r",
        after=numbers[1],
    )
    resumed = reader.read(100)
    assert [r.event for r in resumed] == [r.event for r in before[2:]]
    assert [r.arrival for r in resumed] == pytest.approx([r.arrival for r in before[2:]], abs=0.001)
    # AND the next record is numbered after them, read once, and journaled once
    put = kinesis.put_record(StreamName=stream.name, PartitionKey="k", Data=b"r5")
    assert int(put["SequenceNumber"]) == int(numbers[4]) + 1
    assert [base64.b64decode(r.event["kinesis"]["data"]) for r in reader.read(100)] == [b"r5"]
    second.close()
    journaled = (tmp_path / "kinesis-it-resume-moves.jsonl").read_text().splitlines()
    assert [base64.b64decode(json.loads(line)["data"]) for line in journaled] == [
        b"r2",
        b"r3",
        b"r4",
        b"r5",
    ]


def test_a_shard_every_mapping_finished_keeps_only_its_last_record_so_that_numbers_go_on(
    moto: tuple[MotoServer, Callable[[str], Any]], tmp_path: Path
) -> None:
    _, client = moto
    kinesis = client("kinesis")
    stream = KinesisStream("done", "it-resume-done", "X", "a test stream", "key")
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    first = KinesisJournal(tmp_path, (stream,), REGION, poll_seconds=60)
    first.restore(lambda name: {})
    first.start(kinesis)
    last = [kinesis.put_record(StreamName=stream.name, PartitionKey="k", Data=b"x") for _ in range(3)][-1]
    first.close()
    kinesis.delete_stream(StreamName=stream.name)
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    second = KinesisJournal(tmp_path, (stream,), REGION, poll_seconds=60)
    assert second.restore(lambda name: {SHARD: int(last["SequenceNumber"])}) == {stream.name: 1}
    second.start(kinesis)
    put = kinesis.put_record(StreamName=stream.name, PartitionKey="k", Data=b"y")
    assert int(put["SequenceNumber"]) == int(last["SequenceNumber"]) + 1
    second.close()


def events_table(name: str) -> Table:
    return Table(name, "X", "events", EVENTS.partition_key, EVENTS.sort_key, stream="NEW_IMAGE")


def item(aggregate_id: str, seq: int) -> dict[str, Any]:
    return {"aggregate_id": {"S": aggregate_id}, "seq": {"N": str(seq)}, "kind": {"S": "event"}}


def test_table_stream_records_after_the_lowest_checkpoint_come_back_and_new_writes_number_on(
    moto: tuple[MotoServer, Callable[[str], Any]], tmp_path: Path
) -> None:
    server, client = moto
    dynamodb = client("dynamodb")
    table = events_table("it-resume-events")
    create_table(dynamodb, table, with_stream=False)
    # GIVEN three writes journaled
    first = Journal(tmp_path, (table,), dynamodb, server, REGION, poll_seconds=60)
    first.restore()
    first.start()
    for seq in (1, 2, 3):
        dynamodb.put_item(TableName=table.local_name, Item=item("a", seq))
    before = StreamCursor(server, table.local_name, REGION).next()
    first.close()
    checkpoint = int(before[0]["dynamodb"]["SequenceNumber"])  # the slowest mapping finished the first write
    # WHEN the runtime restarts (the table empty, without its stream) and reloads the journal
    dynamodb.delete_table(TableName=table.local_name)
    create_table(dynamodb, table, with_stream=False)
    second = Journal(tmp_path, (table,), dynamodb, server, REGION, poll_seconds=60)
    assert second.restore({table.local_name: checkpoint}) == {table.id: 3}
    second.start({table.local_name: checkpoint})
    # THEN the stream holds the two writes after the checkpoint, as they were
    resumed = StreamCursor(server, table.local_name, REGION, after=str(checkpoint)).next()
    assert [(r["eventID"], r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in resumed] == [
        (r["eventID"], r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in before[1:]
    ]
    assert [r["dynamodb"]["NewImage"] for r in resumed] == [r["dynamodb"]["NewImage"] for r in before[1:]]
    # AND the next write is numbered after the last one journaled, and journaled once
    dynamodb.put_item(TableName=table.local_name, Item=item("a", 4))
    (new,) = StreamCursor(server, table.local_name, REGION, after=before[-1]["dynamodb"]["SequenceNumber"]).next()
    assert int(new["dynamodb"]["SequenceNumber"]) == int(before[-1]["dynamodb"]["SequenceNumber"]) + 1
    second.close()
    assert len((tmp_path / f"{table.id}.jsonl").read_text().splitlines()) == 4


def test_checkpoints_ahead_of_the_journal_stop_the_start(
    moto: tuple[MotoServer, Callable[[str], Any]], tmp_path: Path
) -> None:
    server, client = moto
    dynamodb = client("dynamodb")
    table = events_table("it-resume-ahead")
    create_table(dynamodb, table, with_stream=False)
    first = Journal(tmp_path, (table,), dynamodb, server, REGION, poll_seconds=60)
    first.restore()
    first.start()
    for seq in (1, 2):
        dynamodb.put_item(TableName=table.local_name, Item=item("b", seq))
    (one, _) = StreamCursor(server, table.local_name, REGION).next()
    first.close()
    dynamodb.delete_table(TableName=table.local_name)
    create_table(dynamodb, table, with_stream=False)
    # GIVEN checkpoints that say a mapping finished records the journal does not have (a journal cut by hand)
    second = Journal(tmp_path, (table,), dynamodb, server, REGION, poll_seconds=60)
    low = int(one["dynamodb"]["SequenceNumber"])
    second.restore({table.local_name: low})
    # WHEN it starts, THEN it refuses, rather than hand out new writes under numbers the mappings think they read
    with pytest.raises(JournalError, match="the checkpoints disagree"):
        second.start({table.local_name: low + 10})
    second.close()


def test_a_kinesis_checkpoint_past_the_journal_stops_the_start(
    moto: tuple[MotoServer, Callable[[str], Any]], tmp_path: Path
) -> None:
    _, client = moto
    kinesis = client("kinesis")
    stream = KinesisStream("ahead", "it-resume-ahead", "X", "a test stream", "key")
    kinesis.create_stream(StreamName=stream.name, ShardCount=1)
    # GIVEN no journal for a stream whose mapping has a checkpoint at record 5 (a journal deleted by hand)
    journal = KinesisJournal(tmp_path, (stream,), REGION, poll_seconds=60)
    # WHEN it is restored, THEN it refuses: the stream's next records would be numbered 1, 2... under the checkpoint
    with pytest.raises(JournalError, match="a checkpoint is at 5"):
        journal.restore(lambda name: {SHARD: 5}, lambda name: {SHARD: 5})
