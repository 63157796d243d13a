"""What figures 5 and 8 share: the pipeline's resources on in-process moto, twice (the consumers' region and the
floor's), the event source mappings' pollers and batches, and the driver that runs a consumer's real handler on a
batch and then sends the writes it made again, by hand, to the floor's copies.

- `Poller`: one mapping's reader. Each `poll()` returns the records of its source after those it returned before,
  as Lambda's poller gets them: the event table's DynamoDB stream from moto's model (as the local runtime reads it;
  moto's Streams API serialiser takes about 4.5 s for 1,000 records here), a Kinesis stream through
  GetShardIterator / GetRecords (the iterator kept between polls), each record shaped by `local.stream_events` (the
  functions the local runtime's event source mappings use).
- `batches`: the invocations of a mapping for those records: its filters, then its batch size.
- `Pipeline.drive`: each function runs with a composition root of its own (each Lambda function is a process of its
  own: its state cache, its parts), on the recorded clients; then its successful writes (PutItem, UpdateItem,
  TransactWriteItems, PutRecords, Publish) are sent again as recorded to the floor's region; each side timed on its
  own, the garbage collector paused per batch.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws

from bench.aws import PIPELINE_WRITES, CallRecorder, Calls, Deployment, client, deploy_pipeline, stream_records
from bench.timing import collector_paused, timed
from infra.model import EventSource, Function, StreamAccess
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.kernel.components import Root
from local.apigw import LambdaContext
from local.environment import function_name, role_arn
from local.filters import accepts, kinesis_view
from local.stream_events import dynamodb_record, kinesis_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sns import SNSClient

FLOOR_REGION: Final = "us-west-2"
NO_TARGET: Final = "info (the issue sets no target)"
Handler = Callable[[dict[str, Any], Any], Any]
Mapping = tuple[Function, EventSource]
# Given a batch (before the handler runs): the reference reads for it, to be timed after the floor; they return how
# many reads they made.
Reference = Callable[[dict[str, Any]], Callable[[], int]]


@dataclass
class Region:
    """The pipeline's resources in one region of moto, and the recorded clients the consumers (or the floor) use."""

    dynamodb: DynamoDBClient
    kinesis: KinesisClient
    sns: SNSClient
    recorder: CallRecorder
    deployment: Deployment

    @classmethod
    def deploy(cls, region: str | None = None) -> Region:
        dynamodb, kinesis, sns = (client(service, region) for service in ("dynamodb", "kinesis", "sns"))
        return cls(
            dynamodb, kinesis, sns, CallRecorder(dynamodb, kinesis, sns), deploy_pipeline(dynamodb, kinesis, sns)
        )

    def root(self) -> Root:
        """A Lambda's composition root in this region: its settings from the deployment's environment, every part
        built by it as deployed, on these (recorded) clients. A new one each call: one per function."""
        return self.deployment.root(self.dynamodb, self.kinesis, self.sns)


@dataclass
class Consumer:
    function: Function
    source: EventSource
    records: int = 0
    batches: int = 0
    seconds: float = 0.0  # in the handler
    calls: Calls = field(default_factory=Calls)
    floor_seconds: float = 0.0
    floor_calls: Calls = field(default_factory=Calls)
    reads_seconds: float = 0.0  # the reference reads, by hand (figure 5's fraud detection)
    reads: int = 0
    batch_seconds: list[tuple[float, float, float]] = field(default_factory=list)  # (handler, floor, reads) each
    failed: list[str] = field(default_factory=list)  # batchItemFailures' itemIdentifiers
    log_bytes: int = 0  # what it printed (Powertools' logs and metrics): Lambda sends it to CloudWatch
    pairs: int = 0  # distinct (aggregate, batch): what one write per aggregate per batch would send

    @property
    def name(self) -> str:
        return self.function.id

    @property
    def label(self) -> str:
        """The function, and its source when it has several mappings (e.g. 'inventory <- fulfilment')."""
        several = len(self.function.event_sources) > 1
        return f"{self.name} <- {self.source.source}" if several else self.name

    @property
    def unit(self) -> str:
        return "alert" if self.source.source == "alerts" else "event"

    @property
    def per_second(self) -> float:
        return self.records / self.seconds

    @property
    def ratio(self) -> float:
        """Records per second over the floor's records per second, the same records: the median over the batches
        (each batch's floor time over its handler time), so that a burst of load from elsewhere on the machine
        during one side of one batch does not decide it."""
        return statistics.median(floor / handler for handler, floor, _ in self.batch_seconds)

    @property
    def reference_ratio(self) -> float:
        """The same with the reference reads added to the floor."""
        return statistics.median((floor + reads) / handler for handler, floor, reads in self.batch_seconds)

    def per_record(self) -> str:
        """Each operation's calls per record, e.g. 'PutItem 1.00'."""
        return (
            " + ".join(f"{op} {count / self.records:.2f}" for op, count in sorted(self.calls.operations.items()))
            or "no call"
        )

    def split(self) -> str:
        """Per record: the time in each client call (botocore + moto) and outside them."""
        each = 1000 / self.records
        calls = ", ".join(f"{op} {self.calls.seconds_in(op) * each:.2f} ms" for op in sorted(self.calls.operations))
        own = (self.seconds - self.calls.seconds) * each
        return (
            f"{self.label} {self.seconds * each:.2f} ms = {calls or 'no call'} in client calls + {own:.2f} ms "
            f"outside them ({self.log_bytes / self.records:,.0f} bytes of logs); "
            f"floor {self.floor_seconds * each:.2f} ms"
        )

    def details(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "batches": self.batches,
            "batch_size": self.source.batch_size,
            "seconds": self.seconds,
            "per_second": self.per_second if self.records else None,
            "floor_seconds": self.floor_seconds,
            "batch_seconds": self.batch_seconds,
            "floor_client_seconds": {op: self.floor_calls.seconds_in(op) for op in sorted(self.floor_calls.operations)},
            "ratio": self.ratio if self.records else None,
            "operations": dict(self.calls.operations),
            "client_seconds": {op: self.calls.seconds_in(op) for op in sorted(self.calls.operations)},
            "floor_operations": dict(self.floor_calls.operations),
            "log_bytes": self.log_bytes,
            "aggregate_batch_pairs": self.pairs,
        }


@dataclass
class Pipeline:
    """The consumers' region, the floor's, and each function's composition root."""

    main: Region
    floor: Region
    printed: Callable[[], int]  # bytes printed so far (the handlers' logs and metrics)
    roots: dict[str, Root] = field(default_factory=dict)

    def handler(self, function: Function) -> Handler:
        """The function's lambda_handler, its process's composition root current (set before its module is first
        imported: a handler module starts on the root current then)."""
        bootstrap.reset(self.roots.setdefault(function.id, self.main.root()))
        module, _, attribute = function.handler.rpartition(".")
        handler: Handler = getattr(importlib.import_module(module), attribute)
        return handler

    def drive(self, consumer: Consumer, batches: list[dict[str, Any]], reference: Reference | None = None) -> None:
        """Invoke the handler on each batch, then send the batch's writes again by hand (the floor), then the
        reference reads, if any; each timed on its own."""
        handler = self.handler(consumer.function)
        topics = {self.main.deployment.notification_topic_arn: self.floor.deployment.notification_topic_arn}
        printed_before = self.printed()
        with collector_paused():  # once for all the batches: a full collection walks moto's whole heap
            for event in batches:
                self._batch(consumer, handler, event, topics, reference)
        consumer.log_bytes += self.printed() - printed_before

    def _batch(
        self,
        consumer: Consumer,
        handler: Handler,
        event: dict[str, Any],
        topics: dict[str, str],
        reference: Reference | None,
    ) -> None:
        context = LambdaContext(function_name(consumer.function))
        consumer.records += len(event["Records"])
        consumer.batches += 1
        consumer.pairs += len(aggregates_of(event))
        reads = reference(event) if reference is not None else None
        with self.main.recorder.recording() as calls:
            start = time.perf_counter()
            response = handler(event, context)
            seconds = time.perf_counter() - start
        writes = [call for call in calls.calls if call.operation in PIPELINE_WRITES and not call.failed]
        with self.floor.recorder.recording() as floor_calls:
            floor_seconds = timed(partial(_send_again, writes, self.floor, topics))
        reads_made, reads_seconds = 0, 0.0
        if reads is not None:
            start = time.perf_counter()
            reads_made = reads()
            reads_seconds = time.perf_counter() - start
        consumer.reads += reads_made
        consumer.seconds += seconds
        consumer.floor_seconds += floor_seconds
        consumer.reads_seconds += reads_seconds
        consumer.batch_seconds.append((seconds, floor_seconds, reads_seconds))
        consumer.calls.calls += calls.calls
        consumer.floor_calls.calls += floor_calls.calls
        consumer.failed += [failure["itemIdentifier"] for failure in (response or {}).get("batchItemFailures", [])]


@contextmanager
def deployed() -> Iterator[Pipeline]:
    """moto in-process with the topology's resources in the consumers' region and again in the floor's, the
    handlers' output going to a file (Lambda sends it to CloudWatch); the process's root reset afterwards."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", TOPOLOGY.environment["POWERTOOLS_SERVICE_NAME"])
    with mock_aws(), printed_to_file() as printed, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        try:
            yield Pipeline(Region.deploy(), Region.deploy(FLOOR_REGION), printed)
        finally:
            bootstrap.reset()


def _send_again(writes: list[Any], floor: Region, topics: dict[str, str]) -> None:
    from botocore import xform_name

    clients: dict[str, Any] = {"dynamodb": floor.dynamodb, "kinesis": floor.kinesis, "sns": floor.sns}
    for call in writes:
        params = call.params
        if "TopicArn" in params:
            params = {**params, "TopicArn": topics[params["TopicArn"]]}
        getattr(clients[call.service], xform_name(call.operation))(**params)


# --- the mappings, upstream first, and their records --------------------------------------------------------------


def upstream_first(selected: Callable[[Function, EventSource], bool]) -> list[Mapping]:
    """The topology's event source mappings that `selected` keeps, each after the mappings of the functions that put
    records on its Kinesis stream (as their access says), so that it reads all they wrote."""
    pending = [(f, source) for f in TOPOLOGY.functions for source in f.event_sources if selected(f, source)]
    writers = {
        stream.id: {
            f.id
            for f in TOPOLOGY.functions
            for a in f.access
            if isinstance(a, StreamAccess) and a.stream == stream.id and any("PutRecord" in x for x in a.actions)
        }
        for stream in TOPOLOGY.streams
    }
    kept = {f.id for f, _ in pending}
    done: set[str] = set()
    ordered: list[Mapping] = []
    while pending:
        ready = [
            (f, s) for f, s in pending if s.kind == "dynamodb" or (writers.get(s.source, set()) & kept) <= done | {f.id}
        ]
        if not ready:
            raise RuntimeError(f"the pipeline's mappings form a cycle: {[f.id for f, _ in pending]}")
        for f, source in ready:
            ordered.append((f, source))
            pending.remove((f, source))
        done |= {f.id for f, _ in ready}
    return ordered


class Poller:
    """One event source mapping's reader: each `poll()` returns the records of its source after those it returned
    before, as Lambda hands them to the function (a Kinesis stream shard by shard, each oldest first)."""

    def __init__(self, function: Function, source: EventSource, dynamodb: DynamoDBClient, kinesis: KinesisClient):
        self.function, self.source = function, source
        self._dynamodb, self._kinesis = dynamodb, kinesis
        self._region = dynamodb.meta.region_name
        self._read = 0  # DynamoDB stream: records returned so far
        self._iterators: dict[str, str] = {}  # Kinesis: each shard's next iterator

    def poll(self) -> list[dict[str, Any]]:
        return self._dynamodb_stream() if self.source.kind == "dynamodb" else self._kinesis_stream()

    def _dynamodb_stream(self) -> list[dict[str, Any]]:
        table = TOPOLOGY.table(self.source.source).local_name
        arn = self._dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        raw = stream_records(self._dynamodb, table, after=self._read)
        self._read += len(raw)
        return [dynamodb_record(record, stream_arn=arn, region=self._region).event for record in raw]

    def _kinesis_stream(self) -> list[dict[str, Any]]:
        stream = TOPOLOGY.stream(self.source.source).name
        summary = self._kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        records: list[dict[str, Any]] = []
        for shard in self._kinesis.list_shards(StreamName=stream)["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self._kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while True:
                response = self._kinesis.get_records(ShardIterator=iterator, Limit=1000)
                iterator = response.get("NextShardIterator") or iterator
                records += [
                    kinesis_record(
                        raw,
                        shard_id=shard_id,
                        stream_arn=summary["StreamARN"],
                        region=self._region,
                        invoke_identity_arn=role_arn(self.function),
                    ).event
                    for raw in response["Records"]
                ]
                if not response["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return records


def batches(source: EventSource, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invocations of the mapping: the records its filters accept, in order, `batch_size` at a time (a batch
    never spans two shards)."""
    accepted = [
        record
        for record in records
        if accepts(source.filters, kinesis_view(record) if source.kind == "kinesis" else record)
    ]
    events: list[dict[str, Any]] = []
    for _, shard in _by_shard(accepted):
        events += [
            {"Records": shard[start : start + source.batch_size]} for start in range(0, len(shard), source.batch_size)
        ]
    return events


def _by_shard(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    shards: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        shard = record["eventID"].partition(":")[0] if record["eventSource"] == "aws:kinesis" else ""
        shards.setdefault(shard, []).append(record)
    return list(shards.items())


def stream_messages(kinesis: KinesisClient, stream: str) -> list[bytes]:
    """The data of every record on the Kinesis stream, shard by shard, each oldest first (for checks)."""
    messages: list[bytes] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            messages += [record["Data"] for record in response["Records"]]
            iterator = response.get("NextShardIterator", "")
            if not response["Records"] or not iterator:
                break
    return messages


def kinesis_data(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["kinesis"]["data"])


def aggregates_of(event: dict[str, Any]) -> set[str]:
    """The aggregates (or, for alerts, the accounts or orders) the batch's records are about."""
    about: set[str] = set()
    for record in event["Records"]:
        if "dynamodb" in record:
            about.add(record["dynamodb"]["NewImage"]["aggregate_id"]["S"])
        else:
            body = json.loads(kinesis_data(record))
            about.add(str(body.get("aggregate_id") or body.get("account_id") or body.get("order_id")))
    return about


@contextmanager
def printed_to_file() -> Iterator[Callable[[], int]]:
    """Everything this process prints (file descriptor 1) goes to a temporary file meanwhile: the handlers'
    structured logs and metrics, which Lambda sends to CloudWatch; yields a function that says how many bytes so far."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)

        def size() -> int:
            sys.stdout.flush()
            return os.fstat(sink.fileno()).st_size

        try:
            yield size
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
