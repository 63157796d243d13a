"""The event streaming half of the topology on moto: its Kinesis streams and SNS topics, an SQS on-failure queue per
event source mapping, SQS queues on each topic, and the event source mappings themselves (local/esm.py), one thread
per mapping and shard invoking the functions' handlers in their execution environments.

Each topic gets two SQS subscriptions (raw message delivery off, so a message is SNS's JSON envelope: Subject,
Message, MessageAttributes, TopicArn...): `<topic>-local`, which nothing here reads, for people and tests to read
(`aws sqs receive-message`), and `<topic>-log`, which the runtime drains, logging each notification once.

Every second the pipeline's state goes to `<data-dir>/pipeline-status.json` (`python -m local.status` shows it):
per mapping and shard the records read, delivered, retried and sent to the on-failure queue; `quiet` says whether
everything is idle and has looked for new records since the last invocation anywhere ended; with a heartbeat board
(local/heartbeats.py), per mapping when its consumer last noted the heartbeat and whether it is overdue.

With `checkpoints` (local/checkpoints.py), each mapping's consumer on each shard starts after its checkpoint, if it
has one, and keeps it each time it moves (a mapping without one starts at its starting position, and that is kept
before any consumer runs). Stopping lets each consumer finish its invocation in flight and keep its checkpoint; it
does not wait for the pipeline to drain: the next start resumes from the checkpoints.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from infra.topology import EventSource, Function, KinesisStream, Topology
from local.archive import delivery_arn, delivery_source
from local.chaos import ChaosSettings
from local.checkpoints import Checkpoints
from local.dynamodb_streams import StreamCursor, StreamSource
from local.environment import function_arn, function_name, kinesis_stream_arn, role_arn, topic_arn
from local.esm import POLL_SECONDS, Invoke, ShardConsumer, ShardReader, SourceMapping
from local.heartbeats import HeartbeatBoard
from local.logs import log
from local.sources import DynamoDBShardReader, KinesisShardReader

STATUS_FILE: Final = "pipeline-status.json"
_STATUS_SECONDS: Final = 1.0
_STATUS_LOG_SECONDS: Final = 30.0
_NOTIFICATION_POLL_SECONDS: Final = 1.0


@dataclass(frozen=True)
class Queues:
    """The SQS queues the pipeline made: each mapping's on-failure queue and each topic's queues, by name."""

    failures: dict[str, str]  # mapping name -> queue URL
    notifications: dict[str, str]  # topic id -> the queue URL people read
    notification_logs: dict[str, str]  # topic id -> the queue URL the runtime drains into its log


def mapping_name(topology: Topology, function: Function, source: EventSource) -> str:
    """e.g. `fraud <- account-transactions`, `projector <- ledger-events`."""
    return f"{function.id} <- {source_name(topology, source)}"


def delivery_mapping_name(stream: KinesisStream) -> str:
    """The archive's delivery of `stream` as a mapping, e.g. `archive <- orders` (local/archive.py)."""
    return f"archive <- {stream.name}"


def source_name(topology: Topology, source: EventSource) -> str:
    if source.kind == "dynamodb":
        return topology.table(source.source).local_name
    return topology.stream(source.source).name


def failure_queue_name(function: Function, source: EventSource) -> str:
    """The on-failure destination of `function`'s mapping on `source`, e.g. `ledger-fraud-transactions-dlq`."""
    return f"{function_name(function)}-{source.source}-dlq"


class Pipeline:
    def __init__(
        self,
        topology: Topology,
        stream_source: StreamSource,
        *,
        endpoint_url: str,
        region: str,
        chaos: ChaosSettings | None = None,
        status_path: Path | None = None,
        checkpoints: Checkpoints | None = None,
        heartbeats: HeartbeatBoard | None = None,
    ) -> None:
        import boto3

        self.topology = topology
        self._streams = stream_source
        self._region = region
        self._chaos = chaos or ChaosSettings()
        self.status_path = status_path
        self.checkpoints = checkpoints
        self.heartbeats = heartbeats

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=endpoint_url, region_name=region)  # type: ignore[call-overload]

        self._dynamodb = client("dynamodb")
        self._dynamodb_streams = client("dynamodbstreams")
        self._kinesis = client("kinesis")
        self._sns = client("sns")
        self._sqs = client("sqs")  # no SQS stubs among the dev requirements: Any
        self.queues = Queues({}, {}, {})
        self.consumers: list[ShardConsumer] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._notifications_logged = 0
        self._logged_stats: dict[str, dict[str, Any]] = {}

    @property
    def mappings(self) -> list[tuple[Function, EventSource]]:
        return [(function, source) for function in self.topology.functions for source in function.event_sources]

    # --- resources ---------------------------------------------------------------------------------------------

    def create_resources(self) -> Queues:
        """The topology's Kinesis streams and SNS topics, the topics' queues, and each mapping's on-failure queue."""
        for stream in self.topology.streams:
            self._kinesis.create_stream(StreamName=stream.name, ShardCount=stream.shards)
        for topic in self.topology.topics:
            arn = self._sns.create_topic(Name=topic.name)["TopicArn"]
            if arn != topic_arn(topic, self._region):  # the functions were told the computed one
                raise RuntimeError(f"moto named topic {topic.name} {arn}, not {topic_arn(topic, self._region)}")
            self.queues.notifications[topic.id] = self._subscribed_queue(arn, f"{topic.name}-local")
            self.queues.notification_logs[topic.id] = self._subscribed_queue(arn, f"{topic.name}-log")
        for function, source in self.mappings:
            url = self._sqs.create_queue(QueueName=failure_queue_name(function, source))["QueueUrl"]
            self.queues.failures[mapping_name(self.topology, function, source)] = url
        log.info(
            "pipeline resources created",
            extra={
                "kinesis_streams": [stream.name for stream in self.topology.streams],
                "topics": [topic.name for topic in self.topology.topics],
                "notification_queues": list(self.queues.notifications.values()),
                "on_failure_queues": self.queues.failures,
            },
        )
        return self.queues

    def _subscribed_queue(self, topic: str, name: str) -> str:
        url: str = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return url

    # --- running -----------------------------------------------------------------------------------------------

    def start(self, invokers: Mapping[str, Invoke], deliveries: Mapping[str, Invoke] | None = None) -> None:
        """Start a consumer for each mapping and shard of the functions in `invokers` (function id -> invoke);
        mappings of other functions are left out, with a warning. `deliveries` (stream id -> the archive's delivery
        of it, local/archive.py) each read their stream the same way."""
        for function, source in self.mappings:
            name = mapping_name(self.topology, function, source)
            if function.id not in invokers:
                log.warning("event source mapping not started: its function is not available", extra={"mapping": name})
                continue
            if source.parallelization_factor != 1:
                log.warning(
                    "parallelization factor not emulated: one batch at a time per shard",
                    extra={"mapping": name, "parallelization_factor": source.parallelization_factor},
                )
            mapping = SourceMapping(name, function_arn(function, self._region), source, POLL_SECONDS[source.kind])
            send = self._sender(self.queues.failures[name])
            for reader, position in self._readers(function, source, name):
                consumer = ShardConsumer(
                    mapping,
                    reader,
                    invokers[function.id],
                    send,
                    chaos=self._chaos.dice(f"{name}/{reader.shard_id}"),
                    position=position,
                    on_checkpoint=self._keeper(name, source, reader.shard_id),
                )
                self.consumers.append(consumer)
        for stream_id, deliver in (deliveries or {}).items():
            self._start_delivery(self.topology.stream(stream_id), deliver)
        if self.checkpoints is not None:  # where each consumer starts: it holds the records after it from now on
            for consumer in self.consumers:
                if consumer.position is not None:
                    self.checkpoints.record(
                        consumer.mapping.name,
                        source_name(self.topology, consumer.source),
                        consumer.shard_id,
                        consumer.position,
                    )
            self.checkpoints.commit()
        for consumer in self.consumers:
            self._spawn(f"esm {consumer.mapping.name}", partial(self._consume, consumer))
        if self.queues.notification_logs:
            self._spawn("notifications log", self._log_notifications)
        self._spawn("pipeline status", self._report)
        log.info(
            "event source mappings started",
            extra={"consumers": len(self.consumers), "chaos": asdict(self._chaos) if self._chaos.enabled else None},
        )

    def _start_delivery(self, stream: KinesisStream, deliver: Invoke) -> None:
        if self.topology.archive is None:
            raise ValueError("the topology declares no archive to deliver to")
        name = delivery_mapping_name(stream)
        source = delivery_source(self.topology.archive, stream)
        mapping = SourceMapping(name, delivery_arn(stream, self._region), source, POLL_SECONDS["kinesis"])
        identity = delivery_arn(stream, self._region)
        for reader, position in self._kinesis_readers(stream, source, name, identity):
            self.consumers.append(
                ShardConsumer(
                    mapping,
                    reader,
                    deliver,
                    _log_given_up,  # Firehose has no on-failure queue: a day of retries, then its error output
                    chaos=self._chaos.dice(f"{name}/{reader.shard_id}"),
                    position=position,
                    on_checkpoint=self._keeper(name, source, reader.shard_id),
                )
            )

    def close(self) -> None:
        """Stop every consumer after its invocation in flight, and keep their checkpoints."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)  # a consumer may be waiting for an invocation to end
        self._threads.clear()
        if self.checkpoints is not None:
            try:
                self.checkpoints.close()  # any a failed commit left behind, then no more
            except Exception:
                log.exception("cannot keep the event source mappings' checkpoints")
        if self.consumers:
            self._write_status()
            self._log_stats(force=True)

    def _keeper(self, name: str, source: EventSource, shard_id: str) -> Callable[[str], None] | None:
        """What keeps the consumer's checkpoint on disk, if anything does."""
        if self.checkpoints is None:
            return None
        return partial(self.checkpoints.advance, name, source_name(self.topology, source), shard_id)

    def _readers(self, function: Function, source: EventSource, mapping: str) -> list[tuple[ShardReader, str | None]]:
        """A reader per shard of the source, after the mapping's checkpoint there or at its starting position;
        with the checkpoint it starts from (the sequence number before the shard's first record at TRIM_HORIZON)."""
        readers: list[tuple[ShardReader, str | None]] = []
        if source.kind == "dynamodb":
            table = self.topology.table(source.source).local_name
            stream_arn = self._dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if not stream_arn:
                raise RuntimeError(f"{function.id} reads the stream of {table}, which has none")
            for shard in self._dynamodb_streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
                before_first = str(int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) - 1)
                dynamodb_reader = DynamoDBShardReader(
                    StreamCursor(self._streams, table, self._region),
                    shard_id=shard["ShardId"],
                    stream_arn=stream_arn,
                    region=self._region,
                    starting_position=source.starting_position,
                    after=self._start_after(mapping, shard["ShardId"], source, before_first),
                )
                readers.append((dynamodb_reader, dynamodb_reader.position or before_first))
            return readers
        return self._kinesis_readers(self.topology.stream(source.source), source, mapping, role_arn(function))

    def _kinesis_readers(
        self, stream: KinesisStream, source: EventSource, mapping: str, identity: str
    ) -> list[tuple[ShardReader, str | None]]:
        readers: list[tuple[ShardReader, str | None]] = []
        name = stream.name
        for shard in self._kinesis.list_shards(StreamName=name)["Shards"]:
            before_first = str(max(int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) - 1, 0))
            kinesis_reader = KinesisShardReader(
                self._kinesis,
                stream_name=name,
                shard_id=shard["ShardId"],
                stream_arn=kinesis_stream_arn(name, self._region),
                region=self._region,
                invoke_identity_arn=identity,
                starting_position=source.starting_position,
                after=self._start_after(mapping, shard["ShardId"], source, before_first),
            )
            readers.append((kinesis_reader, kinesis_reader.position or before_first))
        return readers

    def _start_after(self, mapping: str, shard_id: str, source: EventSource, before_first: str) -> str | None:
        """The mapping's checkpoint on the shard; else, at TRIM_HORIZON, just before the shard's first record."""
        checkpoint = self.checkpoints.position(mapping, shard_id) if self.checkpoints is not None else None
        durable = source.kind == "kinesis" or self.topology.table(source.source).durable_locally
        if checkpoint is not None and durable:  # a table that is not journaled starts its stream afresh each run
            return checkpoint
        return before_first if source.starting_position == "TRIM_HORIZON" else None

    def _sender(self, queue_url: str) -> Callable[[dict[str, Any]], None]:
        def send(record: dict[str, Any]) -> None:
            self._sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

        return send

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _consume(self, consumer: ShardConsumer) -> None:
        while not self._stop.is_set():
            try:
                delay = consumer.step()
            except Exception:  # moto going away at shutdown, or a bug: say so, keep the shard going
                log.exception("event source mapping step failed", extra={"mapping": consumer.mapping.name})
                delay = consumer.mapping.poll_seconds
            if delay > 0:
                self._stop.wait(delay)

    # --- notifications -----------------------------------------------------------------------------------------

    def _log_notifications(self) -> None:
        while not self._stop.wait(_NOTIFICATION_POLL_SECONDS):
            for topic_id, url in self.queues.notification_logs.items():
                try:
                    self._drain_notifications(topic_id, url)
                except Exception:
                    log.exception("cannot read the notifications log queue", extra={"queue": url})

    def _drain_notifications(self, topic_id: str, url: str) -> None:
        while not self._stop.is_set():
            messages = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            for message in messages:
                envelope = json.loads(message["Body"])
                try:
                    body: Any = json.loads(envelope.get("Message", ""))
                except ValueError:
                    body = envelope.get("Message")
                log.info(
                    "notification",
                    extra={
                        "topic": topic_id,
                        "subject": envelope.get("Subject"),
                        "notification": body,
                        "message_id": envelope.get("MessageId"),
                    },
                )
            self._notifications_logged += len(messages)
            self._sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    # --- status ------------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        consumers = [(consumer, consumer.stats.snapshot()) for consumer in self.consumers]
        busy = any(stats["pending"] or stats["in_flight"] for _, stats in consumers)
        last_activity = max((stats["last_activity_at"] for _, stats in consumers), default=0.0)
        idle_checked = min((stats["idle_checked_at"] for _, stats in consumers), default=time.time())
        heartbeat = None
        if self.heartbeats is not None:
            heartbeat = self.heartbeats.status(
                (mapping_name(self.topology, f, s), f.id, source_name(self.topology, s)) for f, s in self.mappings
            )
        return {
            "written_at": time.time(),
            "heartbeat": heartbeat,
            "quiet": not busy and idle_checked > last_activity,
            "idle_checked_at": idle_checked,
            "last_activity_at": last_activity,
            "chaos": asdict(self._chaos),
            "notifications_logged": self._notifications_logged,
            "notification_queues": self.queues.notifications,
            "mappings": [
                {
                    "mapping": consumer.mapping.name,
                    "shard": consumer.shard_id,
                    "on_failure_queue": self.queues.failures.get(consumer.mapping.name),
                    **stats,
                }
                for consumer, stats in consumers
            ],
        }

    def _report(self) -> None:
        last_log = time.monotonic()
        while not self._stop.wait(_STATUS_SECONDS):
            try:
                self._write_status()
                if time.monotonic() - last_log >= _STATUS_LOG_SECONDS:
                    self._log_stats()
                    last_log = time.monotonic()
            except Exception:
                log.exception("cannot write the pipeline status")

    def _write_status(self) -> None:
        if self.status_path is None:
            return
        temporary = self.status_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.status(), indent=1))
        os.replace(temporary, self.status_path)

    def _log_stats(self, *, force: bool = False) -> None:
        """One line per mapping and shard whose counters moved since its last line."""
        for consumer in self.consumers:
            stats = consumer.stats.snapshot()
            counters = {k: v for k, v in stats.items() if k not in ("last_activity_at", "idle_checked_at")}
            key = f"{consumer.mapping.name}/{consumer.shard_id}"
            if force or counters != self._logged_stats.get(key):
                log.info("event source mapping", extra={"mapping": consumer.mapping.name, **counters})
                self._logged_stats[key] = counters


def _log_given_up(record: dict[str, Any]) -> None:
    log.error("archive: records given up on after a day of retries", extra={"on_failure_record": record})
