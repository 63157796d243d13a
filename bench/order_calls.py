"""Figure 7: AWS calls per command on the order side, on a cold and on a warm process: the order's own commands on a
fresh order (PlaceOrder with two lines, ReceivePayment), and the commands of the two aggregates whose histories grow
without bound - the stock of a busy sku (Reserve, as inventory sends it; Restock) and a customer (RecordPlacement,
as order fraud sends it) - at histories of 10 / 1,000 / 10,000 events. An order itself holds at most 100 lines, so
its history stays short.

The services are built as the command function's composition root builds them (the deployed snapshot interval and
state cache), on a recorded client; the histories are made by the services themselves (bench/histories.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from moto import mock_aws

from bench.aws import transactions_copy_touched_items
from bench.footprints import Footprint, Harness, command_context
from bench.histories import OPEN_ORDERS, RESTOCK, customer_history, placement, seed, stock_history
from bench.reads import HISTORIES
from bench.report import Note, Row, judged
from ledger.application.customers import CUSTOMER
from ledger.application.orders import ORDER
from ledger.application.stock import STOCK
from ledger.domain.customers import KEPT
from ledger.domain.orders import Line, PlaceOrder, ReceivePayment
from ledger.domain.stock import Reserve, Restock
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.records import StreamItem

ONE_WRITE: Final = "<= 1 read + 1 write"
WARM: Final = "info (expected 0 reads + 1 write: decided on the cached state)"
LINES: Final = (Line("bench-mug", 1, 1_250), Line("bench-cap", 2, 1_800))  # 1,250 + 3,600 = 4,850 cents
# A customer's state keeps its newest KEPT placements: from KEPT placements on, its items are the size they stay at
# any length, and a load reads one of them, as for a sku. So one customer, past the cap, shows what any length does.
CUSTOMER_ID: Final = "bench-customer"
CUSTOMER_EVENTS: Final = 2 * KEPT
History = Callable[..., list[StreamItem]]


@dataclass(frozen=True)
class Measured:
    """One row's footprints: of one command, or of one kind of command at each history length."""

    label: str
    footprints: dict[int, Footprint]  # by history length (0: a fresh order)
    cold: bool
    kind: str = ""  # the command's name, for the row that compares lengths

    @property
    def passed(self) -> bool:
        return all(f.within(reads=1, writes=1) for f in self.footprints.values())

    @property
    def flat(self) -> bool:
        return len({f.shape for f in self.footprints.values()}) == 1

    def value(self) -> str:
        described = {h: f.describe() for h, f in self.footprints.items()}
        if len(set(described.values())) == 1:
            text = next(iter(described.values()))
            return text if len(described) == 1 else f"{text} at each length"
        return "; ".join(f"{h:,}: {text}" for h, text in described.items())


def run(*, snapshot_interval: int | None) -> tuple[list[Row], list[Note], dict[str, Any]]:
    with mock_aws(), transactions_copy_touched_items():
        harness = Harness.deploy(snapshot_interval)
        interval = harness.service(STOCK).settings.snapshot_interval
        cache_size = harness.service(STOCK).settings.state_cache_size
        skus = {history: f"bench-sku-{history}" for history in HISTORIES}
        seeded = _seed(harness, [(STOCK, sku, stock_history, h) for h, sku in skus.items()], interval)
        seeded |= _seed(harness, [(CUSTOMER, CUSTOMER_ID, customer_history, CUSTOMER_EVENTS)], interval)
        orders = _order_commands(harness)
        long_lived = _stock_commands(harness, skus)
        customer = _customer_commands(harness)
    measured = [*orders, *long_lived, *customer]
    rows = [_row(m, cache_size) for m in measured]
    flat = all(m.flat for m in long_lived)
    lengths = " / ".join(f"{h:,}" for h in HISTORIES)
    rows.append(
        Row(
            f"7. order side: calls flat in history length ({lengths})",
            "; ".join(
                f"{m.kind} {'cold' if m.cold else 'warm'} "
                + " / ".join(str(len(f.calls.calls)) for f in m.footprints.values())
                for m in long_lived
            ),
            "same calls and items read at every length",
            judged(flat),
            figure=7,
        )
    )
    items = sum(s for s, _, _ in seeded.values())
    notes: list[Note] = [
        (
            7,
            f"7: snapshot interval {interval}, state cache {cache_size}; one table of {items:,} items: a sku at "
            f"each of {lengths} events and a customer at {CUSTOMER_EVENTS} (and their snapshots), made by "
            "CommandService(STOCK) and CommandService(CUSTOMER) on the in-memory store in "
            f"{sum(m for _, m, _ in seeded.values()):.1f} s and put into moto (without stream records) in "
            f"{sum(w for _, _, w in seeded.values()):.1f} s. The sku's history: restocks of {RESTOCK}, reservations "
            f"of 1-3 units for order lines, the oldest of {OPEN_ORDERS} open orders shipped as the next one reserves "
            "(its state carries the open reservations, as a busy sku's does); the customer's: a placement every "
            f"20 s (its state keeps the newest {KEPT}, so past {KEPT} its items stay the size they are at any "
            "length). Reserve and RecordPlacement carry an Idempotency-Key, as inventory and order fraud send them "
            "(every consumer command does: its key derives from the event it answers); Restock has none (POST "
            "/inventory/{sku}/restocks without the header). Cold = the service's state cache has no entry for the "
            "aggregate; warm = the next command in the same process. Items read = the Query's ScannedCount; used = "
            "items the load drew from the store before it found a stored state. moto's transactions copy only the "
            "items they touch here (the local runtime's backup, local/moto_transactions.py): calls are counted, "
            "not timed.",
        )
    ]
    misses = [m.label for m in measured if m.cold and not m.passed]
    if misses or not flat:
        notes.append((7, "7 misses: " + "; ".join(f"{m.label}: {m.value()}" for m in measured if not m.passed)))
    details = {
        "snapshot_interval": interval,
        "state_cache_size": cache_size,
        "table_items": items,
        "seed_seconds": {name: {"service": m, "moto": w} for name, (_, m, w) in seeded.items()},
        **{m.label: {str(h): f.details() for h, f in m.footprints.items()} for m in measured},
    }
    return rows, notes, details


def _seed(
    harness: Harness, histories: list[tuple[Aggregate[Any, Any, Any], str, History, int]], interval: int
) -> dict[str, tuple[int, float, float]]:
    """Each (aggregate, id, history, events) in the table (without stream records: nothing reads the stream here),
    read back through its service: {id: (items, seconds making them, seconds writing them)}."""
    seeded: dict[str, tuple[int, float, float]] = {}
    for aggregate, aggregate_id, history, events in histories:
        make = partial(history, aggregate_id, events, snapshot_interval=interval)
        done, _ = seed(harness.setup, harness.table, make, stream=False)
        read = harness.service(aggregate).reader.read(aggregate_id)
        if read.version != events:
            raise RuntimeError(f"seeded {aggregate.type} {aggregate_id!r} reads back at version {read.version}")
        seeded[aggregate_id] = (done.items, done.service_seconds, done.write_seconds)
    return seeded


def _order_commands(harness: Harness) -> list[Measured]:
    """PlaceOrder (two lines: OrderPlaced and two ItemAddedToOrder, written together) on new orders, then payments
    on them as another process sees them (cold) and as the same one does right after (warm)."""

    def place(order_id: str, *, idempotent: bool) -> Footprint:
        command = PlaceOrder(order_id, "bench-buyer", "USD", LINES)
        return harness.command(ORDER, command, cold=True, context=command_context(idempotent=idempotent))

    def pay(order_id: str, payment: str, *, cold: bool, idempotent: bool = False) -> Footprint:
        command = ReceivePayment(order_id, payment, 1_000, "card")
        return harness.command(ORDER, command, cold=cold, context=command_context(idempotent=idempotent))

    placed = place("bench-order-1", idempotent=False)
    placed_with_key = place("bench-order-2", idempotent=True)
    paid_cold = pay("bench-order-1", "pay-1", cold=True)
    paid_warm = pay("bench-order-1", "pay-2", cold=False)
    paid_with_key = pay("bench-order-2", "pay-1", cold=True, idempotent=True)
    order = "7. AWS calls per order command"
    return [
        Measured(f"{order}: PlaceOrder (2 lines: 3 events), new order", {0: placed}, cold=True),
        Measured(f"{order}: PlaceOrder (2 lines) with Idempotency-Key, new order", {0: placed_with_key}, cold=True),
        Measured(f"{order}: ReceivePayment (part), fresh order, cold process", {0: paid_cold}, cold=True),
        Measured(f"{order}: ReceivePayment (part), warm process", {0: paid_warm}, cold=False),
        Measured(
            f"{order}: ReceivePayment with Idempotency-Key, fresh order, cold process", {0: paid_with_key}, cold=True
        ),
    ]


def _stock_commands(harness: Harness, skus: dict[int, str]) -> list[Measured]:
    """At each length: a reservation of a new order line (cold, then warm), then a restock (cold, then warm). None
    of them crosses a snapshot interval, as 99 in 100 commands do not."""
    by_kind: dict[tuple[str, bool], dict[int, Footprint]] = {}
    for history, sku in skus.items():
        for number, cold in enumerate((True, False)):
            reserve = Reserve(sku, f"bench-order-{history}-{number}", line=1, quantity=1)
            context = command_context(idempotent=True, caller="inventory")
            footprint = harness.command(STOCK, reserve, cold=cold, context=context)
            by_kind.setdefault(("Reserve", cold), {})[history] = footprint
        for cold in (True, False):
            footprint = harness.command(STOCK, Restock(sku, 10), cold=cold)
            by_kind.setdefault(("Restock", cold), {})[history] = footprint
    lengths = " / ".join(f"{h:,}" for h in HISTORIES)
    what = {
        "Reserve": "Reserve (stock, a new order line, inventory's Idempotency-Key)",
        "Restock": "Restock (stock)",
    }
    return [
        Measured(
            f"7. AWS calls per {what[kind]}, {'cold' if cold else 'warm'} process, {lengths} events",
            footprints,
            cold,
            kind,
        )
        for (kind, cold), footprints in by_kind.items()
    ]


def _customer_commands(harness: Harness) -> list[Measured]:
    """A placement told to a customer whose state is at its size cap (cold, then warm)."""
    measured = []
    for number, cold in enumerate((True, False)):
        recorded = placement(CUSTOMER_ID, f"{CUSTOMER_ID}-new-{number}", datetime.now(UTC))
        context = command_context(idempotent=True, caller="order-fraud")
        footprint = harness.command(CUSTOMER, recorded, cold=cold, context=context)
        label = (
            "7. AWS calls per RecordPlacement (customer, order fraud's Idempotency-Key), "
            f"{'cold' if cold else 'warm'} process, {CUSTOMER_EVENTS} placements (state at its cap)"
        )
        measured.append(Measured(label, {CUSTOMER_EVENTS: footprint}, cold, "RecordPlacement"))
    return measured


def _row(measured: Measured, cache_size: int) -> Row:
    calls = max(len(f.calls.calls) for f in measured.footprints.values())
    if not measured.cold:
        label = measured.label.replace("warm process", f"warm process (state cache {cache_size})")
        return Row(label, measured.value(), WARM, "info", figure=7, number=calls)
    return Row(measured.label, measured.value(), ONE_WRITE, judged(measured.passed), figure=7, number=calls)
