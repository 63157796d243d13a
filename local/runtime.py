"""The whole system on one machine: moto, the topology's tables (with their journaled data, and on the events
table's stream the records some event source mapping had not finished), the Kinesis streams (with theirs), SNS
topics and queues, the functions, the read models rebuilt from the event store, the event source mappings (each
resuming from its checkpoint), the HTTP API, the heartbeat's schedule. `LocalRuntime.start` brings them up in that
order; `stop` takes them down in reverse: the mappings keep their checkpoints, the journals are flushed
(docs/local-runtime.md, "What survives a restart")."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from infra.topology import TOPOLOGY, Topology
from local.archive import LOCAL_BUCKET, ArchiveDelivery, ArchiveMirror
from local.chaos import ChaosSettings
from local.checkpoints import CHECKPOINTS_FILE, Checkpoints
from local.environment import (
    SCRUBBED,
    aws_environment,
    function_environment,
    function_name,
    resource_environment,
)
from local.esm import Invoke
from local.gateway import Gateway
from local.heartbeats import HeartbeatBoard, HeartbeatSchedule
from local.journal import Journal
from local.kinesis_journal import KinesisJournal
from local.lambdas import FunctionPool, FunctionSpec, handler_available
from local.logs import log
from local.moto_server import MotoServer
from local.pipeline import STATUS_FILE, Pipeline, delivery_mapping_name, mapping_name, source_name
from local.rebuild import rebuild_read_models
from local.resources import create_table
from local.routing import Router

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Options:
    port: int = 8000
    aws_port: int = 4566
    data_dir: Path = Path(".local")
    reset: bool = False
    concurrency: int = 4  # execution environments per function
    journal_poll_seconds: float = 1.0  # how often writes made directly on moto (aws CLI) are journaled
    region: str = "us-east-1"
    chaos: ChaosSettings = field(default_factory=ChaosSettings)  # for the event source mappings (local/chaos.py)
    # How often the heartbeat fires: None, the topology's rate; 0, never (local/heartbeats.py)
    heartbeat_seconds: float | None = None


class LocalRuntime:
    def __init__(self, options: Options, topology: Topology = TOPOLOGY) -> None:
        self.options = options
        self.topology = topology
        self._stack = ExitStack()
        self.api_url = ""
        self.aws_url = ""
        self.pipeline: Pipeline | None = None
        self.heartbeats: HeartbeatBoard | None = None

    def start(self) -> None:
        """Bring everything up; on any failure, take down what was started and raise."""
        with ExitStack() as stack:
            self._start(stack)
            self._stack = stack.pop_all()

    def stop(self) -> None:
        log.info("stopping")
        self._stack.close()
        log.info("stopped")

    def _start(self, stack: ExitStack) -> None:
        options = self.options
        moto = MotoServer(HOST, options.aws_port)  # binds now: a busy port fails before anything else happens
        stack.callback(moto.stop)
        self.aws_url = moto.url
        for name in SCRUBBED:
            os.environ.pop(name, None)
        os.environ.update(aws_environment(moto.url, options.region))
        moto.start()

        dynamodb = _dynamodb(moto.url, options.region)
        journal = Journal(
            options.data_dir,
            self.topology.tables,
            dynamodb,
            moto,
            options.region,
            poll_seconds=options.journal_poll_seconds,
        )
        stack.callback(journal.close)
        streams = KinesisJournal(
            options.data_dir, self.topology.streams, options.region, poll_seconds=options.journal_poll_seconds
        )
        checkpoints = Checkpoints(options.data_dir / CHECKPOINTS_FILE, before_commit=(journal.drain, streams.drain))
        mirror = ArchiveMirror(options.data_dir)
        if options.reset:
            journal.reset()
            streams.reset()
            checkpoints.reset()
            mirror.reset()
        checkpoints.load(self._mapping_sources())
        for table in self.topology.tables:
            create_table(dynamodb, table, with_stream=not table.durable_locally)
        low = {table.local_name: checkpoints.low_water(table.local_name) for table in self.topology.tables}
        high = {table.local_name: checkpoints.high_water(table.local_name) for table in self.topology.tables}
        journal.restore({name: min(shards.values()) for name, shards in low.items() if shards})
        # the streams carry this run's writes from here on, after the records some mapping has yet to read
        journal.start({name: max(shards.values()) for name, shards in high.items() if shards})

        self.heartbeats = self._heartbeat_board()
        pipeline = Pipeline(
            self.topology,
            moto,
            endpoint_url=moto.url,
            region=options.region,
            chaos=options.chaos,
            status_path=options.data_dir / STATUS_FILE,
            checkpoints=checkpoints,
            heartbeats=self.heartbeats,
        )
        pipeline.create_resources()
        self.pipeline = pipeline
        streams.restore(checkpoints.low_water, checkpoints.high_water)  # before anything uses the Kinesis streams
        streams.start(_kinesis(moto.url, options.region))
        stack.callback(streams.close)

        pools = {
            function.id: FunctionPool(
                FunctionSpec(
                    function,
                    function_name(function),
                    {
                        **os.environ,
                        **function_environment(self.topology, function, endpoint_url=moto.url, region=options.region),
                    },
                    options.region,
                    on_metrics=self.heartbeats.record if self.heartbeats is not None else None,
                ),
                options.concurrency,
            )
            for function in self.topology.functions
        }
        for pool in pools.values():
            stack.callback(pool.close)
        resources = resource_environment(self.topology, endpoint_url=moto.url, region=options.region)
        rebuild_read_models(self.topology, {**os.environ, **resources})
        invokers: dict[str, Invoke] = {}
        for function in self.topology.functions:
            if function.event_sources and handler_available(function.handler):
                invokers[function.id] = pools[function.id].invoke
        stack.callback(pipeline.close)  # before the pools close: no invocation is cut short
        pipeline.start(invokers, self._archive_deliveries(moto.url, mirror))
        gateway = Gateway(HOST, options.port, Router(self.topology), pools, after_write=journal.drain)
        stack.callback(gateway.stop)
        gateway.start()
        self.api_url = gateway.url
        self._start_heartbeat(stack, pools)
        log.info("ready", extra={"api": self.api_url, "aws_endpoint": self.aws_url, "data_dir": str(options.data_dir)})

    def _heartbeat_board(self) -> HeartbeatBoard | None:
        """What the consumers note of the heartbeat, when it fires: every `--heartbeat-seconds`, by default the
        topology's rate; 0 turns it off."""
        heartbeat, seconds = self.topology.heartbeat, self.options.heartbeat_seconds
        if heartbeat is None:
            return None
        seconds = heartbeat.rate_minutes * 60.0 if seconds is None else seconds
        return HeartbeatBoard(heartbeat, seconds) if seconds else None

    def _start_heartbeat(self, stack: ExitStack, pools: dict[str, FunctionPool]) -> None:
        """The heartbeat's schedule (the deployed EventBridge rule), invoking the topology's heartbeat function."""
        heartbeat, board = self.topology.heartbeat, self.heartbeats
        if heartbeat is None or board is None:
            return
        if not handler_available(self.topology.function(heartbeat.function).handler):
            return
        schedule = HeartbeatSchedule(
            pools[heartbeat.function].invoke, board.interval_seconds, region=self.options.region
        )
        stack.callback(schedule.stop)  # the first to stop: no firing races the shutdown
        schedule.start()

    def _archive_deliveries(self, endpoint_url: str, mirror: ArchiveMirror) -> dict[str, Invoke]:
        """The archive's bucket on moto, with the objects kept on disk, and a delivery per published stream."""
        archive = self.topology.archive
        if archive is None:
            return {}
        s3 = _s3(endpoint_url, self.options.region)
        s3.create_bucket(Bucket=LOCAL_BUCKET)
        restored = mirror.restore(s3, LOCAL_BUCKET)
        log.info("archive ready", extra={"bucket": LOCAL_BUCKET, "objects_restored": restored})
        return {
            stream.id: ArchiveDelivery(archive, stream, s3, LOCAL_BUCKET, mirror)
            for stream in self.topology.published_streams
        }

    def _mapping_sources(self) -> dict[str, str]:
        """Every event source mapping of the topology (the archive's deliveries too) -> the stream it reads."""
        deliveries = self.topology.published_streams if self.topology.archive is not None else ()
        return {
            **{
                mapping_name(self.topology, function, source): source_name(self.topology, source)
                for function in self.topology.functions
                for source in function.event_sources
            },
            **{delivery_mapping_name(stream): stream.name for stream in deliveries},
        }


def _dynamodb(endpoint_url: str, region: str) -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)


def _kinesis(endpoint_url: str, region: str) -> KinesisClient:
    import boto3

    return boto3.client("kinesis", endpoint_url=endpoint_url, region_name=region)


def _s3(endpoint_url: str, region: str) -> S3Client:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
