"""Histories of any length, made by the services themselves and put straight into a table on moto.

An aggregate's `CommandService` runs the commands against `InMemoryEventStore`, on a clock that ends a day ago, so
the records are the ones the service writes - every event with the state after it, a snapshot wherever the service
takes one - and nothing of its logic is copied here. They then go to the table as `event_item` and `snapshot_item`
make them under the stream key the DynamoDB event store gives the aggregate (the bare id for accounts, whose streams
predate scoping; `<type>#<id>` for the others) through `ModelWriter` (moto's own put, without the request round trip).

Three kinds (figures 1, 2, 4 and 7): an account opened and then sent deposits; the stock of one busy sku (restocks,
reservations of order lines, and the shipment of the oldest open reservations, so that 8 orders hold stock at
any time, as in a shop: the state carries the open reservations, so it stays the size a real sku's does); a
customer's placements (one every 20 s: the velocity window never fills, so each is one OrderRecorded).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

from bench.aws import ModelWriter
from ledger.adapters.dynamodb_event_store import event_item, snapshot_item, stream_key
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.accounts import ACCOUNT
from ledger.application.customers import CUSTOMER
from ledger.application.stock import STOCK
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import Account, Command, DepositMoney, Event, OpenAccount
from ledger.domain.customers import RecordPlacement
from ledger.domain.stock import Reserve, Restock, ShipReservation, Stock, StockCommand
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.instants import to_iso_ms
from ledger.kernel.records import EventRecord, StreamId, StreamItem
from ledger.kernel.service import CommandContext, CommandOutcome, CommandService, ServiceSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

C = TypeVar("C")
S = TypeVar("S")

DEPOSIT: Final = 100  # cents per seeded deposit
RESTOCK: Final = 100  # units per seeded restock of a sku
LOW_STOCK: Final = 10  # a seeded sku is restocked when less than this is available (so it never backorders)
OPEN_ORDERS: Final = 8  # orders holding a seeded sku's stock at any time: the oldest ships when one more reserves
PLACEMENT_GAP: Final = timedelta(seconds=20)  # between a seeded customer's orders: 3 in a 60 s window, never 5
SEED_CONTEXT: Final = CommandContext(correlation_id="bench-seed", causation_id="bench-seed")
AccountService: TypeAlias = CommandService[Command, Event, Account]
Execute: TypeAlias = Callable[[C], CommandOutcome[S]]


@dataclass(frozen=True)
class Seeded:
    """A history written to a table, and what writing it cost."""

    items: int  # events and snapshots
    service_seconds: float  # the service making the records (in memory)
    write_seconds: float  # moto storing the items


def made_by_service(
    aggregate: Aggregate[C, Any, S],
    aggregate_id: str,
    drive: Callable[[Execute[C, S]], None],
    *,
    events: int,
    snapshot_interval: int,
) -> list[StreamItem]:
    """The records the aggregate's service writes while `drive` sends it commands (each through `execute`, which
    answers the outcome), one a millisecond ending a day ago; oldest first, each snapshot after its event. The
    history must come to exactly `events` events."""
    store = InMemoryEventStore()
    start = datetime.now(UTC) - timedelta(days=1, milliseconds=events)
    ticks = itertools.count(1)
    # One writer, no idempotency keys: attempts and TTL play no part. The cache spares a load per command.
    settings = ServiceSettings(snapshot_interval, max_attempts=1, idempotency_ttl=timedelta(days=1), state_cache_size=1)
    service = CommandService(aggregate, store, settings, clock=lambda: start + timedelta(milliseconds=next(ticks)))
    drive(lambda command: service.execute(command, SEED_CONTEXT))
    newest_first = list(store.read_backward(StreamId(aggregate.type, aggregate_id)))
    made = max((record.version for record in newest_first), default=0)
    if made != events:
        raise RuntimeError(f"seeding {aggregate.type} {aggregate_id!r} made {made} events, not {events}")
    return newest_first[::-1]


def account_history(account_id: str, events: int, *, snapshot_interval: int) -> list[StreamItem]:
    """An account opened at zero and then sent `events - 1` deposits."""

    def drive(execute: Execute[Command, Account]) -> None:
        execute(OpenAccount(account_id, owner="Bench"))
        deposit = DepositMoney(account_id, DEPOSIT)
        for _ in range(events - 1):
            execute(deposit)

    return made_by_service(ACCOUNT, account_id, drive, events=events, snapshot_interval=snapshot_interval)


def stock_history(sku: str, events: int, *, snapshot_interval: int) -> list[StreamItem]:
    """The stock of a busy sku: restocked, then lines of 1-3 units reserved, the oldest order shipped whenever
    OPEN_ORDERS hold stock, restocked whenever less than LOW_STOCK is available. Every command writes one event
    (StockReceived, StockReserved or StockShipped: nothing is ever backordered), so the history has exactly `events`."""

    def drive(execute: Execute[StockCommand, Stock]) -> None:
        outcome = execute(Restock(sku, RESTOCK))
        holding: deque[str] = deque()
        for number in itertools.count(1):
            if outcome.version >= events:
                return
            command: StockCommand
            if len(holding) >= OPEN_ORDERS:
                command = ShipReservation(sku, holding.popleft())
            elif outcome.state.available < LOW_STOCK:
                command = Restock(sku, RESTOCK)
            else:
                holding.append(f"{sku}-order-{number}")
                command = Reserve(sku, holding[-1], line=1, quantity=1 + number % 3)
            outcome = execute(command)

    return made_by_service(STOCK, sku, drive, events=events, snapshot_interval=snapshot_interval)


def customer_history(customer_id: str, events: int, *, snapshot_interval: int) -> list[StreamItem]:
    """A customer's placements, PLACEMENT_GAP apart and ending a day ago, each recorded as order fraud records it."""
    first = datetime.now(UTC) - timedelta(days=1) - PLACEMENT_GAP * events

    def drive(execute: Execute[RecordPlacement, Any]) -> None:
        for number in range(events):
            execute(placement(customer_id, f"{customer_id}-order-{number}", first + PLACEMENT_GAP * number))

    return made_by_service(CUSTOMER, customer_id, drive, events=events, snapshot_interval=snapshot_interval)


def placement(customer_id: str, order_id: str, placed_at: datetime) -> RecordPlacement:
    """What order fraud tells a customer when one of their orders is placed (the topology's velocity rule)."""
    return RecordPlacement(customer_id, order_id, to_iso_ms(placed_at), f"placed-{order_id}", 5, 60)


def item(record: StreamItem) -> dict[str, Any]:
    """The table item the DynamoDB event store (built with the catalog's bare stream key types) writes for `record`."""
    key = stream_key(record.stream, AGGREGATES.bare_stream_key_types)
    return event_item(record, key) if isinstance(record, EventRecord) else snapshot_item(record, key)


def write_history(client: DynamoDBClient, table: str, records: Sequence[StreamItem], *, stream: bool = True) -> float:
    """Put the records' items into `table` (stream=False: without stream records); returns the seconds it took."""
    start = time.perf_counter()
    ModelWriter(client, table).put((item(record) for record in records), stream=stream)
    return time.perf_counter() - start


def seed(
    client: DynamoDBClient, table: str, make: Callable[[], list[StreamItem]], *, stream: bool = True
) -> tuple[Seeded, list[StreamItem]]:
    """Make a history (`make()`) and write it to `table`; what it cost, and the records."""
    start = time.perf_counter()
    records = make()
    made = time.perf_counter() - start
    return Seeded(len(records), made, write_history(client, table, records, stream=stream)), records


def seed_account(client: DynamoDBClient, table: str, account_id: str, events: int, *, snapshot_interval: int) -> Seeded:
    """Make the history of an account of `events` events and write it to `table`."""
    seeded, _ = seed(client, table, lambda: account_history(account_id, events, snapshot_interval=snapshot_interval))
    return seeded


def check_seeded(service: AccountService, account_id: str, events: int) -> None:
    """The service reads the seeded history back: the state the deposits add up to, and the opening at version 1."""
    for version, expected in ((None, (events - 1) * DEPOSIT), (1, 0)):
        read = service.reader.read(account_id, version=version)
        if read.version != (version or events) or read.state.balance != expected:
            raise RuntimeError(
                f"seeded {account_id!r} reads back at version {read.version} with balance {read.state.balance}, "
                f"not version {version or events} with balance {expected}"
            )
