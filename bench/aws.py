"""In-process moto, the topology's tables on it, and a recorder of the calls a DynamoDB client sends.

moto's Query looks at every item of the table on each call (real DynamoDB reads only the partition), so on moto a
read's time grows with the table's size: compare read times only between accounts of the same table.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from infra.topology import TOPOLOGY
from ledger.settings import Settings
from local.resources import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FAKE_AWS: Final = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
READS: Final = frozenset({"Query", "GetItem", "Scan", "BatchGetItem", "TransactGetItems"})
WRITES: Final = frozenset({"PutItem", "TransactWriteItems", "BatchWriteItem", "UpdateItem", "DeleteItem"})


def use_fake_credentials() -> None:
    """No call of the benchmark can reach a real account: fake keys, no profile, a fixed region."""
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_PROFILE", None)


def dynamodb_client() -> DynamoDBClient:
    """A client as the functions build it; create it only once moto is started, or it talks to AWS."""
    import boto3

    return boto3.client("dynamodb")


def deploy_tables(client: DynamoDBClient, *, prefix: str = "", snapshot_interval: int | None = None) -> Settings:
    """Every table of the topology (same keys, index and stream as the stack), and the functions' settings."""
    environment = {**TOPOLOGY.environment, **create_tables(client, prefix=prefix)}
    if snapshot_interval is not None:
        environment["SNAPSHOT_INTERVAL"] = str(snapshot_interval)
    return Settings.from_env(environment)


class ModelWriter:
    """Puts items into a table of in-process moto through moto's model: the `put_item` that PutItem and
    BatchWriteItem end in (same stored items, same stream records), without botocore's serialisation and moto's
    request parsing around it. For seeding only: about 0.5 ms an item here, against 1.4 ms with BatchWriteItem."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        import boto3
        from moto.dynamodb.models import dynamodb_backends

        account = boto3.client("sts").get_caller_identity()["Account"]  # the account moto files this client under
        self._backend = dynamodb_backends[account][client.meta.region_name]
        self._backend.get_table(table)  # fails here, not half-way, when the table is not where the client sees it
        self._table = table

    def put(self, items: Iterable[dict[str, Any]]) -> int:
        """Put each item (unconditionally); returns how many."""
        written = 0
        for item in items:
            self._backend.put_item(self._table, item)
            written += 1
        return written


@dataclass
class Call:
    operation: str
    seconds: float = 0.0  # from the client method's entry to its parsed response (moto's work included)
    items_read: int = 0  # Query/Scan: ScannedCount; GetItem: 1 when an item came back


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
    """Counts every call a client sends (botocore's before-call event) and what it read (after-call)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._current: Calls | None = None  # None: not recording
        self._entered = 0.0
        events = client.meta.events
        events.register("provide-client-params.dynamodb", self._on_enter)
        events.register("before-call.dynamodb", self._on_send)
        events.register("after-call.dynamodb", self._on_response)

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        self._current = calls = Calls()
        try:
            yield calls
        finally:
            self._current = None

    def _on_enter(self, **_: Any) -> None:
        self._entered = time.perf_counter()

    def _on_send(self, model: Any, **_: Any) -> None:
        if self._current is not None:
            self._current.calls.append(Call(model.name))

    def _on_response(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._current is None or not self._current.calls:
            return
        call = self._current.calls[-1]
        call.seconds = time.perf_counter() - self._entered
        if "ScannedCount" in parsed:
            call.items_read = int(parsed["ScannedCount"])
        elif "Item" in parsed:
            call.items_read = 1
