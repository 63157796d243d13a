"""The vocabulary of the topology description (infra/topology.py): tables, streams, topics, functions, routes,
event sources and access. Standard library only: the CDK stack and the local runtime both read it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

KeyType = Literal["S", "N"]
StreamView = Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "OLD_IMAGE"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType


@dataclass(frozen=True)
class LocalIndex:
    name: str
    sort_key: Key
    projection: Literal["KEYS_ONLY", "ALL"] = "KEYS_ONLY"


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: Key
    sort_key: Key | None = None
    projection: Literal["KEYS_ONLY", "ALL"] = "ALL"


@dataclass(frozen=True)
class Table:
    id: str  # logical id: construct id in CDK, suffix of the local table name
    env_var: str  # the functions find the table's name in this environment variable
    description: str
    partition_key: Key
    sort_key: Key | None = None
    local_indexes: tuple[LocalIndex, ...] = ()
    global_indexes: tuple[GlobalIndex, ...] = ()
    stream: StreamView | None = None
    ttl_attribute: str | None = None
    durable_locally: bool = True  # the local runtime journals it to disk and reloads it on start
    # The projection this table holds, when it is a read model rebuilt from the event store (`python -m
    # ledger.rebuild <projection>`); the local runtime rebuilds it on start instead of journaling it.
    projection: str | None = None

    @property
    def local_name(self) -> str:
        return f"ledger-{self.id}"


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str  # API Gateway syntax: /accounts/{account_id}

    @property
    def key(self) -> str:
        """API Gateway's routeKey, e.g. 'GET /accounts/{account_id}'."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class KinesisStream:
    id: str
    name: str  # the stream's name, the same locally and deployed
    env_var: str  # the functions find the name in this environment variable
    description: str
    partition_key: str  # what producers use as the partition key (per-key order)
    shards: int = 1
    retention_hours: int = 24
    # The aggregate types whose events the publisher puts here (each type goes to exactly one stream).
    aggregate_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    env_var: str  # the functions find the topic's ARN in this environment variable
    description: str


@dataclass(frozen=True)
class TableAccess:
    table: str  # Table.id
    actions: tuple[str, ...]  # DynamoDB actions, e.g. ("dynamodb:Query",)
    indexes: bool = False  # whether the actions also apply to the table's indexes
    # whether they apply to the indexes only, not to the table itself (a read model queried through its indexes)
    indexes_only: bool = False

    def __post_init__(self) -> None:
        if self.indexes_only and not self.indexes:
            raise ValueError(f"access to {self.table}: indexes_only without indexes grants nothing")


@dataclass(frozen=True)
class StreamAccess:
    stream: str  # KinesisStream.id
    actions: tuple[str, ...]  # e.g. ("kinesis:PutRecords",)


@dataclass(frozen=True)
class TopicAccess:
    topic: str  # Topic.id
    actions: tuple[str, ...]  # e.g. ("sns:Publish",)


Access = TableAccess | StreamAccess | TopicAccess


@dataclass(frozen=True)
class EventSource:
    """An event source mapping: the function reads `source` (a table's DynamoDB stream or a Kinesis stream).

    Every mapping reports batch item failures, sends what it gives up on to its own encrypted SQS queue (with an
    alarm on its depth), and carries the reasons for its numbers in `rationale`.
    """

    kind: Literal["dynamodb", "kinesis"]
    source: str  # Table.id (its stream) or KinesisStream.id
    batch_size: int
    max_batching_window_seconds: int
    retry_attempts: int
    max_record_age_seconds: int
    rationale: str
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    bisect_on_error: bool = True
    parallelization_factor: int = 1
    # Lambda event filtering patterns (the same JSON the EventSourceMapping's FilterCriteria take): records that
    # match none are dropped before the function sees them.
    filters: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Function:
    id: str
    handler: str  # module.attribute under functions/
    description: str
    routes: tuple[Route, ...] = ()
    access: tuple[Access, ...] = ()
    event_sources: tuple[EventSource, ...] = ()
    memory_mb: int = 512
    timeout_seconds: int = 10
    default_route: bool = False  # serves API Gateway's $default route (every unmatched request)


@dataclass(frozen=True)
class Heartbeat:
    """The pipeline's heartbeat: every `rate_minutes` a schedule invokes `function`, which records a beat (an event of
    its own `aggregate_type`) in the event store. The beat travels the real path: the events table's stream to its
    readers, the publisher to every stream it feeds (EVENT_STREAMS routes the type to each), a consumer that puts
    onto a stream forwards it there; each consumer notes its arrival (the `metric`, in `namespace`, with the
    dimensions `Consumer` = function id and `Source` = the stream's or table's name) and does nothing else with it.
    An alarm per event source mapping goes off when no beat arrived in `missed_beats` periods of `rate_minutes`."""

    function: str  # Function.id the schedule invokes
    aggregate_type: str
    rate_minutes: int
    missed_beats: int
    rationale: str
    namespace: str = "Ledger"
    metric: str = "Heartbeat"


@dataclass(frozen=True)
class Archive:
    """Every event message of every stream the publisher feeds, kept in S3 beyond the streams' retention.

    Deployed, one Amazon Data Firehose delivery stream per Kinesis stream writes what it reads, unchanged and one
    message per line, into gzip objects under `<prefix>aggregate_type=<type>/date=<UTC day it occurred>/`
    (dynamic partitioning on the message's fields), named `<delivery stream>-<version>-<UTC time>-<uuid>.gz` as
    Firehose names them; Athena reads it through a Glue table whose partitions are projected. The local runtime
    writes the same objects to moto's S3 (local/archive.py). Delivery is at least once (Firehose retries; a
    heartbeat rides every stream): readers drop repeated event ids, which makes the archive exactly once per event."""

    bucket_env_var: str  # the archive tools find the bucket's name in this environment variable
    prefix: str  # e.g. "events/"
    error_prefix: str  # where Firehose puts what it could not partition
    buffer_seconds: int  # Firehose's buffering interval: at most this long from the stream to S3
    buffer_mib: int  # Firehose's buffering size (64 MiB at least with dynamic partitioning)
    local_buffer_seconds: int  # the local runtime's buffering interval: a few seconds, for tests and people
    infrequent_access_days: int  # lifecycle: to S3 Standard-IA after this many days
    glacier_days: int  # lifecycle: to S3 Glacier Instant Retrieval after this many days
    rationale: str
    database: str = "ledger"  # the Glue database Athena queries
    table: str = "events"  # the Glue table over the archive

    def partition(self, aggregate_type: str, day: str) -> str:
        """The key prefix of one partition, e.g. events/aggregate_type=Account/date=2026-12-01/."""
        return f"{self.prefix}aggregate_type={aggregate_type}/date={day}/"


@dataclass(frozen=True)
class Topology:
    tables: tuple[Table, ...]
    functions: tuple[Function, ...]
    streams: tuple[KinesisStream, ...] = ()
    topics: tuple[Topic, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)  # same for every function
    heartbeat: Heartbeat | None = None
    archive: Archive | None = None

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    def function(self, function_id: str) -> Function:
        return next(f for f in self.functions if f.id == function_id)

    def stream(self, stream_id: str) -> KinesisStream:
        return next(s for s in self.streams if s.id == stream_id)

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)

    def event_streams(self, name_of: Callable[[KinesisStream], str]) -> str:
        """EVENT_STREAMS, the publisher's routing: a JSON object of aggregate type -> the name of its stream
        (`name_of` gives a stream's name: a CDK token when deployed, the plain name locally), and the heartbeat's
        type -> the names of every stream the publisher feeds."""
        routes: dict[str, str | list[str]] = {
            aggregate_type: name_of(s) for s in self.streams for aggregate_type in s.aggregate_types
        }
        if self.heartbeat is not None:
            routes[self.heartbeat.aggregate_type] = [name_of(s) for s in self.published_streams]
        return json.dumps(routes, separators=(",", ":"))

    @property
    def published_streams(self) -> tuple[KinesisStream, ...]:
        """The streams the publisher puts events on (those some aggregate type is assigned to)."""
        return tuple(s for s in self.streams if s.aggregate_types)

    def consumers_of(self, kind: str, source: str) -> list[tuple[Function, EventSource]]:
        return [
            (function, event_source)
            for function in self.functions
            for event_source in function.event_sources
            if (event_source.kind, event_source.source) == (kind, source)
        ]

    @property
    def routes(self) -> dict[str, Function]:
        return {route.key: function for function in self.functions for route in function.routes}

    @property
    def default_function(self) -> Function:
        return next(f for f in self.functions if f.default_route)
