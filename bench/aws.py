"""In-process moto, the topology's tables, Kinesis streams and topic on it, and a recorder of the calls clients send.

moto's Query looks at every item of the table on each call (real DynamoDB reads only the partition), so on moto a
read's time grows with the table's size: compare read times only between accounts of the same table.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from bench.sizes import item_size
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.components import (
    ACCOUNTS_TABLE,
    ALERTS_TABLE,
    FRAUD_RULES,
    NOTIFICATION_TOPIC,
    NOTIFICATIONS_TABLE,
    REPORTS_TABLE,
)
from ledger.kernel.components import Root, Setting
from local.environment import settings_environment
from local.resources import create_tables

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sns import SNSClient

FAKE_AWS: Final = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
READS: Final = frozenset({"Query", "GetItem", "Scan", "BatchGetItem", "TransactGetItems"})
WRITES: Final = frozenset({"PutItem", "TransactWriteItems", "BatchWriteItem", "UpdateItem", "DeleteItem"})
# What the stream consumers write besides DynamoDB items: Kinesis records and SNS messages.
PIPELINE_WRITES: Final = WRITES | {"PutRecords", "PutRecord", "Publish", "PublishBatch"}


def use_fake_credentials() -> None:
    """No call of the benchmark can reach a real account: fake keys, no profile, a fixed region."""
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_PROFILE", None)


def dynamodb_client() -> DynamoDBClient:
    """A client as the functions build it; create it only once moto is started, or it talks to AWS."""
    import boto3

    return boto3.client("dynamodb")


def client(service: str, region: str | None = None) -> Any:
    """A client as the functions' composition root builds it (`bootstrap._client`: short SDK retries); create it
    only once moto is started."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3})
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Deployment:
    """Where the bench deployed the topology: the functions' settings there (their environment, as the stack sets
    it, with the names of what the bench created), from which a function's composition root builds its parts."""

    environment: Mapping[str, str]

    def setting(self, setting: Setting[Any]) -> str:
        return self.environment[setting.variable]

    @property
    def event_table(self) -> str:
        return self.setting(bootstrap.EVENT_TABLE)

    @property
    def accounts_table(self) -> str:
        return self.setting(ACCOUNTS_TABLE)

    @property
    def alerts_table(self) -> str:
        return self.setting(ALERTS_TABLE)

    @property
    def reports_table(self) -> str:
        return self.setting(REPORTS_TABLE)

    @property
    def notifications_table(self) -> str:
        return self.setting(NOTIFICATIONS_TABLE)

    @property
    def notification_topic_arn(self) -> str:
        return self.setting(NOTIFICATION_TOPIC)

    @property
    def velocity_count(self) -> int:
        return Root(self.environment).get(FRAUD_RULES).velocity_count

    def with_settings(self, **values: str) -> Deployment:
        """The same deployment with other values of some settings (what-if runs, the state cache off)."""
        return Deployment({**self.environment, **values})

    def root(
        self, dynamodb: DynamoDBClient, kinesis: KinesisClient | None = None, sns: SNSClient | None = None
    ) -> Root:
        """The composition root a function builds in this environment (`bootstrap.Root`: settings read and
        checked from it, parts built on first use), on these clients."""
        root = Root(self.environment).provide(bootstrap.DYNAMODB, dynamodb)
        if kinesis is not None:
            root.provide(bootstrap.KINESIS, kinesis)
        if sns is not None:
            root.provide(bootstrap.SNS, sns)
        return root


def deploy_tables(client: DynamoDBClient, *, prefix: str = "", snapshot_interval: int | None = None) -> Deployment:
    """Every table of the topology (same keys, index and stream as the stack), and the functions' settings."""
    environment = {**_settings(client), **create_tables(client, prefix=prefix)}
    if snapshot_interval is not None:
        environment[bootstrap.SNAPSHOT_INTERVAL.variable] = str(snapshot_interval)
    return Deployment(environment)


def deploy_pipeline(dynamodb: DynamoDBClient, kinesis: KinesisClient, sns: SNSClient) -> Deployment:
    """Every table, Kinesis stream (its shards) and topic of the topology, in the clients' region; the settings a
    function sees there (each stream's name, the topic's ARN)."""
    environment = {**_settings(dynamodb), **create_tables(dynamodb)}
    for stream in TOPOLOGY.streams:
        kinesis.create_stream(StreamName=stream.name, ShardCount=stream.shards)
        environment[stream.env_var] = stream.name
    for topic in TOPOLOGY.topics:
        environment[topic.env_var] = sns.create_topic(Name=topic.name)["TopicArn"]
    return Deployment(environment)


def _settings(client: DynamoDBClient) -> dict[str, str]:
    """The functions' settings as the stack sets them (`local.environment`: local names, the publisher's routing, the
    topology's shared settings), in the client's region; the deploy functions put in the names of what they create."""
    return settings_environment(TOPOLOGY, region=client.meta.region_name)


class ModelWriter:
    """Puts items into a table of in-process moto through moto's model: the `put_item` that PutItem and
    BatchWriteItem end in (same stored items, same stream records), without botocore's serialisation and moto's
    request parsing around it. For seeding only: about 0.5 ms an item here, against 1.4 ms with BatchWriteItem."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        from moto.dynamodb.models import dynamodb_backends

        self._backend = dynamodb_backends[_account()][client.meta.region_name]
        self._backend.get_table(table)  # fails here, not half-way, when the table is not where the client sees it
        self._table = table

    def put(self, items: Iterable[dict[str, Any]], *, stream: bool = True) -> int:
        """Put each item (unconditionally); returns how many. stream=False: no stream records for them (about half
        of moto's work for an item with nested maps, e.g. a sku's state with its open reservations), for a table
        whose stream the caller never reads."""
        table = self._backend.get_table(self._table)
        shard = table.stream_shard
        written = 0
        try:
            if not stream:
                table.stream_shard = None
            for item in items:
                self._backend.put_item(self._table, item)
                written += 1
        finally:
            table.stream_shard = shard
        return written


@contextmanager
def transactions_copy_touched_items() -> Iterator[None]:
    """moto's TransactWriteItems with the local runtime's backup for as long as the block runs: a copy of the items
    a transaction touches, not of every table it names (local/moto_transactions.py). moto deep-copies each table a
    transaction names before applying it, so a transaction on an event table of thousands of items with their
    states takes seconds and hundreds of MB (39 s and 760 MB at 11,000 stock items here); the results are the same."""
    from moto.dynamodb import models

    from local import moto_transactions

    original = models.DynamoDBBackend.transact_write_items
    moto_transactions.install()
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def stream_records(client: DynamoDBClient, table: str, *, after: int = 0) -> list[dict[str, Any]]:
    """The records of the table's DynamoDB stream after the first `after`, oldest first, as GetRecords returns them
    (images in DynamoDB JSON, binary as bytes), read from moto's model: through the Streams API, moto's response
    serialiser takes about 4.5 s for 1,000 records here."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[_account()][client.meta.region_name].get_table(table).stream_shard
    if shard is None:
        raise RuntimeError(f"{table} has no stream")
    if after >= len(shard.items):
        return []
    return [dict(record) for record in shard.get(shard.starting_sequence_number + after, len(shard.items) - after)]


def _account() -> str:
    """The account moto files this process's clients under."""
    import boto3

    return str(boto3.client("sts").get_caller_identity()["Account"])


@dataclass
class Call:
    operation: str
    seconds: float = 0.0  # from the client method's entry to its parsed response (moto's work included)
    items_read: int = 0  # Query/Scan: ScannedCount; GetItem: 1 when an item came back
    service: str = "dynamodb"  # botocore's hyphenized service id: dynamodb, kinesis, sns
    params: dict[str, Any] = field(default_factory=dict)  # the call's API parameters, as the caller passed them
    failed: bool = False  # the response was an error (e.g. a condition that did not hold)
    bytes_read: int = 0  # Query/Scan/GetItem, when the recorder sizes responses: DynamoDB's size of the items returned


@dataclass
class Calls:
    """What one measured operation sent."""

    calls: list[Call] = field(default_factory=list)

    @property
    def operations(self) -> Counter[str]:
        return Counter(call.operation for call in self.calls)

    @property
    def reads(self) -> int:
        return sum(1 for call in self.calls if call.operation in READS)

    @property
    def writes(self) -> int:
        return sum(1 for call in self.calls if call.operation in WRITES)

    @property
    def items_read(self) -> int:
        return sum(call.items_read for call in self.calls)

    @property
    def seconds(self) -> float:
        return sum(call.seconds for call in self.calls)

    def seconds_in(self, operation: str) -> float:
        return sum(call.seconds for call in self.calls if call.operation == operation)

    def summary(self) -> str:
        """e.g. 'Query 1 + PutItem 1'."""
        return " + ".join(f"{name} {count}" for name, count in sorted(self.operations.items())) or "no call"


class CallRecorder:
    """Counts every call the clients send (botocore's before-call event) and what it read (after-call); keeps each
    call's parameters (provide-client-params), so that a call can be sent again."""

    def __init__(self, *clients: BaseClient, sizes: bool = False) -> None:
        self._sizes = sizes  # whether to size the items each read returns (figure 11's read units)
        self._current: Calls | None = None  # None: not recording
        self._entered = 0.0
        self._params: dict[str, Any] = {}
        for client in clients:
            service = client.meta.service_model.service_id.hyphenize()
            events = client.meta.events
            events.register(f"provide-client-params.{service}", self._on_enter)
            events.register(f"before-call.{service}", partial(self._on_send, service))
            events.register(f"after-call.{service}", self._on_response)

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        self._current = calls = Calls()
        try:
            yield calls
        finally:
            self._current = None

    def _on_enter(self, params: dict[str, Any], **_: Any) -> None:
        self._params = params
        self._entered = time.perf_counter()

    def _on_send(self, service: str, model: Any, **_: Any) -> None:
        if self._current is not None:
            self._current.calls.append(Call(model.name, service=service, params=self._params))

    def _on_response(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._current is None or not self._current.calls:
            return
        call = self._current.calls[-1]
        call.seconds = time.perf_counter() - self._entered
        call.failed = "Error" in parsed
        if "ScannedCount" in parsed:
            call.items_read = int(parsed["ScannedCount"])
        elif "Item" in parsed:
            call.items_read = 1
        if self._sizes and call.service == "dynamodb":
            items = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            call.bytes_read = sum(item_size(item) for item in items)
