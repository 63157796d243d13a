"""Account histories of any length, made by the service itself and put straight into a table on moto.

`AccountService.execute` runs the commands (OpenAccount, then deposits) against `InMemoryEventStore`, on a clock
that ends a day ago, so the records are the ones the service writes - every event with the state after it, a
snapshot wherever the service takes one - and nothing of its logic is copied here. They then go to the table as
`event_item` and `snapshot_item` make them (`ModelWriter`: moto's own put, without the request round trip).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from bench.aws import ModelWriter
from ledger.adapters.dynamodb_event_store import event_item, snapshot_item
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.account_service import AccountService, CommandContext, Settings
from ledger.application.records import EventRecord, StreamItem
from ledger.domain.accounts import DepositMoney, OpenAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEPOSIT: Final = 100  # cents per seeded deposit
SEED_CONTEXT: Final = CommandContext(correlation_id="bench-seed", causation_id="bench-seed")


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
    service = AccountService(
        store,
        Settings(snapshot_interval=snapshot_interval, state_cache_size=1),  # the cache spares a load per command
        clock=lambda: start + timedelta(milliseconds=next(ticks)),
    )
    service.execute(OpenAccount(account_id, owner="Bench"), SEED_CONTEXT)
    deposit = DepositMoney(account_id, DEPOSIT)
    for _ in range(events - 1):
        service.execute(deposit, SEED_CONTEXT)
    newest_first = list(store.read_backward(account_id))
    return newest_first[::-1]


def item(record: StreamItem) -> dict[str, Any]:
    """The table item the DynamoDB event store writes for `record`."""
    return event_item(record) if isinstance(record, EventRecord) else snapshot_item(record)


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
        state = service.get(account_id, version=version)
        if state.version != (version or events) or state.balance != expected:
            raise RuntimeError(
                f"seeded {account_id!r} reads back at version {state.version} with balance {state.balance}, "
                f"not version {version or events} with balance {expected}"
            )
