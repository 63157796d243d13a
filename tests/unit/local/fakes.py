"""Fakes for the event source mapping engine: a Kinesis shard in memory, a function that answers as told, a clock."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.model import EventSource
from local.chaos import ChaosSettings
from local.esm import ShardConsumer, SourceMapping
from local.lambdas import FunctionError
from local.stream_events import StreamRecord, kinesis_record

SHARD_ID = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/test-stream"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ledger-test"


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeShard:
    """A Kinesis shard: `put` appends records (data as text), `read` returns them in order."""

    clock: Clock
    shard_id: str = SHARD_ID
    stream_arn: str = STREAM_ARN
    records: list[StreamRecord] = field(default_factory=list)
    position: int = 0

    def put(self, *texts: str, partition_key: str = "pk") -> list[StreamRecord]:
        new = [
            kinesis_record(
                {
                    "SequenceNumber": str(1000 + len(self.records) + index),
                    "ApproximateArrivalTimestamp": datetime.fromtimestamp(self.clock.now, UTC),
                    "Data": text.encode(),
                    "PartitionKey": partition_key,
                },
                shard_id=self.shard_id,
                stream_arn=self.stream_arn,
                region="us-east-1",
                invoke_identity_arn="arn:aws:iam::123456789012:role/ledger-test-role",
            )
            for index, text in enumerate(texts)
        ]
        self.records += new
        return new

    def read(self, limit: int) -> list[StreamRecord]:
        batch = self.records[self.position : self.position + limit]
        self.position += len(batch)
        return batch


Answer = Callable[[list[dict[str, Any]]], Any]


def data(record: dict[str, Any]) -> str:
    return base64.b64decode(record["kinesis"]["data"]).decode()


@dataclass
class FakeFunction:
    """Records each invocation's data; answers with `answer(records)` (None: success)."""

    answer: Answer = lambda records: None
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], request_id: str) -> Any:
        assert request_id
        self.calls.append([data(record) for record in event["Records"]])
        return self.answer(event["Records"])

    @property
    def delivered(self) -> list[str]:
        return [text for call in self.calls for text in call]


def report_failures_of(*poison: str) -> Answer:
    """What Powertools' process_partial_response answers: the failed records' sequence numbers, or an error when
    every record of the batch failed."""

    def answer(records: list[dict[str, Any]]) -> Any:
        failed = [r["kinesis"]["sequenceNumber"] for r in records if data(r) in poison]
        if failed and len(failed) == len(records):
            raise FunctionError("BatchProcessingError: All records failed processing.")
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}

    return answer


def crash_on(*poison: str) -> Answer:
    """A function error whenever the batch holds a poison record."""

    def answer(records: list[dict[str, Any]]) -> Any:
        if any(data(r) in poison for r in records):
            raise FunctionError("ValueError: poison")
        return None

    return answer


def source(**settings: Any) -> EventSource:
    defaults: dict[str, Any] = {
        "kind": "kinesis",
        "source": "test",
        "batch_size": 10,
        "max_batching_window_seconds": 0,
        "retry_attempts": 2,
        "max_record_age_seconds": 3600,
        "rationale": "a test",
    }
    return EventSource(**{**defaults, **settings})


@dataclass
class Harness:
    clock: Clock
    shard: FakeShard
    function: FakeFunction
    failures: list[dict[str, Any]]
    consumer: ShardConsumer
    checkpoints: list[str]  # every checkpoint the consumer reported, in order

    def run(self, seconds: float = 30.0, max_steps: int = 10_000) -> None:
        """Step the consumer for `seconds` of fake time, as its poller thread would."""
        deadline = self.clock.now + seconds
        for _ in range(max_steps):
            if self.clock.now >= deadline:
                return
            delay = self.consumer.step()
            self.clock.now += max(delay, 0.001)
        raise AssertionError("the consumer never waited: a busy loop")


def harness(
    answer: Answer = lambda records: None,
    *,
    chaos: ChaosSettings | None = None,
    filters: Sequence[dict[str, Any]] = (),
    position: str | None = None,
    **settings: Any,
) -> Harness:
    clock = Clock()
    shard = FakeShard(clock)
    function = FakeFunction(answer)
    failures: list[dict[str, Any]] = []
    checkpoints: list[str] = []
    mapping = SourceMapping("test <- test-stream", FUNCTION_ARN, source(filters=tuple(filters), **settings), 1.0)
    consumer = ShardConsumer(
        mapping,
        shard,
        function,
        failures.append,
        chaos=(chaos or ChaosSettings()).dice("test"),
        clock=clock,
        position=position,
        on_checkpoint=checkpoints.append,
    )
    return Harness(clock, shard, function, failures, consumer, checkpoints)
