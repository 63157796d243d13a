"""Account histories of any length, made by the service itself and put straight into a table on moto.

The account's `CommandService` runs the commands (OpenAccount, then deposits) against `InMemoryEventStore`, on a clock
that ends a day ago, so the records are the ones the service writes - every event with the state after it, a
snapshot wherever the service takes one - and nothing of its logic is copied here. They then go to the table as
`event_item` and `snapshot_item` make them under the stream key the DynamoDB event store uses for accounts (bare:
the account id; `ModelWriter`: moto's own put, without the request round trip).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from bench.aws import ModelWriter
from ledger.adapters.dynamodb_event_store import event_item, snapshot_item, stream_key
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.accounts import ACCOUNT
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import Account, Command, DepositMoney, Event, OpenAccount
from ledger.kernel.records import EventRecord, StreamId, StreamItem
from ledger.kernel.service import CommandContext, CommandService, ServiceSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEPOSIT: Final = 100  # cents per seeded deposit
SEED_CONTEXT: Final = CommandContext(correlation_id="bench-seed", causation_id="bench-seed")
AccountService: TypeAlias = CommandService[Command, Event, Account]


@dataclass(frozen=True)
class Seeded:
    """A history written to a table, and what writing it cost."""

    items: int  # events and snapshots
    service_seconds: float  # the service making the records (in memory)
    write_seconds: float  # moto storing the items


def account_history(account_id: str, events: int, *, snapshot_interval: int) -> list[StreamItem]:
    """The records of an account opened at zero and then sent `events - 1` deposits, one a millisecond ending a day
    ago, as the service with this snapshot interval writes them; oldest first, each snapshot after its event."""
    store = InMemoryEventStore()
    start = datetime.now(UTC) - timedelta(days=1, milliseconds=events)
    ticks = itertools.count(1)
    # One writer, no idempotency keys: attempts and TTL play no part. The cache spares a load per command.
    settings = ServiceSettings(snapshot_interval, max_attempts=1, idempotency_ttl=timedelta(days=1), state_cache_size=1)
    service = CommandService(ACCOUNT, store, settings, clock=lambda: start + timedelta(milliseconds=next(ticks)))
    service.execute(OpenAccount(account_id, owner="Bench"), SEED_CONTEXT)
    deposit = DepositMoney(account_id, DEPOSIT)
    for _ in range(events - 1):
        service.execute(deposit, SEED_CONTEXT)
    newest_first = list(store.read_backward(StreamId(ACCOUNT.type, account_id)))
    return newest_first[::-1]


def item(record: StreamItem) -> dict[str, Any]:
    """The table item the DynamoDB event store (built with the catalog's bare stream key types) writes for `record`."""
    key = stream_key(record.stream, AGGREGATES.bare_stream_key_types)
    return event_item(record, key) if isinstance(record, EventRecord) else snapshot_item(record, key)


def write_history(client: DynamoDBClient, table: str, records: Sequence[StreamItem]) -> float:
    """Put the records' items into `table`; returns the seconds it took."""
    start = time.perf_counter()
    ModelWriter(client, table).put(item(record) for record in records)
    return time.perf_counter() - start


def seed_account(client: DynamoDBClient, table: str, account_id: str, events: int, *, snapshot_interval: int) -> Seeded:
    """Make the history of `events` events and write it to `table`."""
    start = time.perf_counter()
    records = account_history(account_id, events, snapshot_interval=snapshot_interval)
    made = time.perf_counter() - start
    return Seeded(len(records), made, write_history(client, table, records))


def check_seeded(service: AccountService, account_id: str, events: int) -> None:
    """The service reads the seeded history back: the state the deposits add up to, and the opening at version 1."""
    for version, expected in ((None, (events - 1) * DEPOSIT), (1, 0)):
        read = service.reader.read(account_id, version=version)
        if read.version != (version or events) or read.state.balance != expected:
            raise RuntimeError(
                f"seeded {account_id!r} reads back at version {read.version} with balance {read.state.balance}, "
                f"not version {version or events} with balance {expected}"
            )
