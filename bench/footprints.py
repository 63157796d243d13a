"""What one operation sends to DynamoDB (figures 1 and 7): the calls by kind, the items they read, the items the load
used; and the command services as the command function's composition root builds them, on a recorded client."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bench.aws import CallRecorder, Calls, deploy_tables, dynamodb_client
from bench.store import CountingStore
from ledger import bootstrap
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.components import Root
from ledger.kernel.service import CommandContext, CommandService, IdempotencyRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")


@dataclass(frozen=True)
class Footprint:
    calls: Calls
    items_used: int

    def describe(self) -> str:
        return f"{self.calls.summary()} (items read {self.calls.items_read}, used {self.items_used})"

    @property
    def shape(self) -> tuple[tuple[tuple[str, int], ...], int]:
        """What must not change with the history's length: the calls, and the items they read."""
        return tuple(sorted(self.calls.operations.items())), self.calls.items_read

    def within(self, *, reads: int, writes: int) -> bool:
        return self.calls.reads <= reads and self.calls.writes <= writes

    def details(self) -> dict[str, Any]:
        return {
            "operations": dict(self.calls.operations),
            "reads": self.calls.reads,
            "writes": self.calls.writes,
            "items_read": self.calls.items_read,
            "items_used": self.items_used,
        }


@dataclass
class Harness:
    """The command function's composition root on a recorded client (its settings from the deployment's
    environment), its event store seen through a CountingStore; and an unrecorded client for seeding and probes."""

    setup: DynamoDBClient
    recorder: CallRecorder
    store: CountingStore
    root: Root
    table: str

    @classmethod
    def deploy(cls, snapshot_interval: int | None = None) -> Harness:
        setup = dynamodb_client()
        deployment = deploy_tables(setup, snapshot_interval=snapshot_interval)
        client = dynamodb_client()
        root = deployment.root(client)
        store = CountingStore(root.get(bootstrap.COMMAND_STORE))
        root.provide(bootstrap.COMMAND_STORE, store)
        return cls(setup, CallRecorder(client), store, root, deployment.event_table)

    def service(self, aggregate: Aggregate[C, E, S]) -> CommandService[C, E, S]:
        return self.root.get(bootstrap.command_service(aggregate))

    def footprint(self, operation: Callable[..., object], *args: object) -> Footprint:
        used = self.store.items_used
        with self.recorder.recording() as calls:
            operation(*args)
        return Footprint(calls, self.store.items_used - used)

    def command(
        self, aggregate: Aggregate[C, E, S], command: C, *, cold: bool, context: CommandContext | None = None
    ) -> Footprint:
        """One command through the aggregate's service; cold: as a process that has not seen the aggregate (its
        state cache has no entry for it)."""
        service = self.service(aggregate)
        if cold:
            service.cache.forget(aggregate.id_of(command))
        return self.footprint(service.execute, command, context or command_context())


def command_context(*, idempotent: bool = False, caller: str = "bench") -> CommandContext:
    """A command's context; idempotent: with a fresh Idempotency-Key, as a client (or a consumer) sends it."""
    key = IdempotencyRequest(str(uuid.uuid4()), caller=caller, fingerprint="bench") if idempotent else None
    return CommandContext(correlation_id="bench", causation_id="bench", idempotency=key)
