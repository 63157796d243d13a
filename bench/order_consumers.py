"""Figure 8: the order side's consumers (inventory, shipping, analytics, order fraud), each mapping's events per second
through its real Lambda handler, in-process on moto, over the raw write floor for the same records; the AWS calls
each event costs; and a check that the effects are what the commands imply.

The input is made by the services themselves (bench/order_traffic.py): a shop's traffic through the command
function's CommandService(ORDER) and CommandService(STOCK), slice by slice of event time. After each slice the
pipeline runs until no record is left, as Lambda's pollers would take them: the publisher (its real handler too, as
the upstream: its figures are in a note) reads the new records of the event table's stream and puts them on the
orders and fulfilment streams; each consumer's mapping reads what is new on its stream (its filters, its batch
size); the commands inventory, shipping and order fraud answer with write new events, which the next round
publishes, and so on until a round finds nothing new. Then the warehouse dispatches and delivers (shipment commands,
as the warehouse's client sends them), which the next slice's rounds carry on. Every batch is the first delivery of
its records; each function has a composition root of its own (its process: its state cache).

The floor, as in figure 5 (bench/pipeline.py): the consumer's own successful writes, sent again by hand to the
floor's copies right after each batch. The consumers' reads (the order or customer a command loads, the order an
event is checked against, an order's payments, the paid order's lines) are their own cost: they are not in the floor.

moto's TransactWriteItems copies every table it names before applying it; the event table here holds thousands of
items with their states, and every command a consumer sends is a transaction (its idempotency record goes with its
events), so this figure runs with the local runtime's backup of the touched items only
(local/moto_transactions.py), on both sides.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from bench import order_effects, order_traffic
from bench.aws import client, transactions_copy_touched_items
from bench.effects import Check
from bench.order_traffic import SLICE
from bench.pipeline import (
    NO_TARGET,
    Consumer,
    Mapping,
    Pipeline,
    Poller,
    batches,
    deployed,
    stream_messages,
    upstream_first,
)
from bench.report import Note, Row, count, judged
from bench.store import TableSnapshot
from bench.timing import collector_paused, timed
from infra.model import EventSource, Function, StreamAccess
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.adapters.dynamodb_sales import DynamoDBSalesStore
from ledger.application.customers import CUSTOMER
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.components import SALES_TABLE

ORDER_TYPES: Final = frozenset({ORDER.type, STOCK.type, SHIPMENT.type, CUSTOMER.type})
ORDER_STREAMS: Final = frozenset(s.id for s in TOPOLOGY.streams if ORDER_TYPES & set(s.aggregate_types))
MAX_ROUNDS: Final = 30  # per slice: a pipeline that never goes quiet is a bug, not a figure
TAIL_SLICES: Final = 2  # warehouse rounds after the traffic: most of what was dispatched gets delivered


def order_side(function: Function, source: EventSource) -> bool:
    """The order streams' consumers, and the event table's consumers that put records on those streams (the
    publisher: their upstream)."""
    if source.kind == "dynamodb":
        return any(isinstance(a, StreamAccess) and a.stream in ORDER_STREAMS for a in function.access)
    return source.source in ORDER_STREAMS


def run(*, orders: int = order_traffic.DEFAULT_ORDERS) -> tuple[list[Row], list[Note], dict[str, Any]]:
    shop = order_traffic.plan(orders)
    rng = random.Random(9)
    with deployed() as pipeline, transactions_copy_touched_items():
        main = pipeline.main
        setup = client("dynamodb")  # unrecorded: the traffic, the warehouse, the checks
        root = main.deployment.root(setup)  # the command function's process
        services = {a.type: root.get(bootstrap.command_service(a)) for a in (ORDER, STOCK, SHIPMENT)}
        mappings = upstream_first(order_side)
        consumers = {_key(m): Consumer(*m) for m in mappings}
        pollers = {_key(m): Poller(*m, main.dynamodb, main.kinesis) for m in mappings}
        commands_seconds, rounds, warehouse_commands = 0.0, 0, 0
        slices = [*shop.slices, *([] for _ in range(TAIL_SLICES))]
        for number, piece in enumerate(slices):
            if piece:
                commands_seconds += timed(partial(order_traffic.run_slice, services, piece))
            rounds += _settle(pipeline, mappings, consumers, pollers)
            end = min(shop.start + SLICE * (number + 1), datetime.now(UTC))
            shipments = TableSnapshot(setup, main.deployment.event_table).reader(SHIPMENT)
            warehouse_commands += order_traffic.warehouse(shop, services, shipments, rng, end)
        rounds += _settle(pipeline, mappings, consumers, pollers)
        measured = [c for c in consumers.values() if c.source.source in ORDER_STREAMS]
        upstream = [c for c in consumers.values() if c.source.source not in ORDER_STREAMS]
        problems = [f"no record reached {c.label}" for c in measured if not c.records]
        failed = sum(len(c.failed) for c in consumers.values())
        floor_failed = sum(1 for c in consumers.values() for call in c.floor_calls.calls if call.failed)
        if failed or floor_failed:
            problems.append(f"{failed} failed records, {floor_failed} failed floor writes")
        table = TableSnapshot(setup, main.deployment.event_table)
        readers = order_effects.Readers(table.reader(ORDER), table.reader(STOCK), table.reader(SHIPMENT))
        check = order_effects.check(
            shop,
            readers,
            DynamoDBSalesStore(setup, main.deployment.setting(SALES_TABLE)),
            alerts=stream_messages(main.kinesis, TOPOLOGY.stream("alerts").name),
            fulfilment=stream_messages(main.kinesis, TOPOLOGY.stream("fulfilment").name),
            problems=problems,
        )
        table_items = int(setup.describe_table(TableName=main.deployment.event_table)["Table"].get("ItemCount", 0))
    rows = _rows(measured, check)
    kinds = shop.kinds
    notes: list[Note] = [
        (
            8,
            f"8: input: {shop.commands:,} commands through the command function's CommandService(ORDER) and "
            f"CommandService(STOCK) on moto in {commands_seconds:.1f} s ({kinds['PlaceOrder']} orders placed, "
            f"{sum(1 for o in shop.orders if o.large)} of them large and {shop.bursts * order_traffic.BURST_LENGTH} "
            f"in {count(shop.bursts, 'burst')}; {kinds['ReceivePayment']} payments, {kinds['CancelOrder']} "
            f"cancellations, {kinds['Restock']} restocks), in {len(shop.slices)} slices of "
            f"{SLICE.seconds // 60} minutes of event time, each followed by the pipeline until it is quiet "
            f"({rounds} rounds in all) and the warehouse ({warehouse_commands} dispatches and deliveries; then "
            f"{TAIL_SLICES} more rounds of it). Records read back as Lambda's pollers get them (what is new on the "
            "stream), in each mapping's batch size after its filters, each consumer through its lambda_handler with "
            "a composition root of its own on recorded clients; the garbage collector paused per batch. Ratio: the "
            "median over the batches of floor time over handler time. Floor: the consumer's own successful writes, "
            "sent again right after each batch to the floor's copies (no reads). moto's transactions back up the "
            "items they touch, not whole tables (local/moto_transactions.py), on both sides.",
        ),
        (8, "8, where the time goes, per event: " + "; ".join(c.split() for c in measured if c.records) + "."),
        (8, _reads_note(measured, table_items)),
        (8, "8, upstream: " + "; ".join(_upstream(c) for c in upstream) + "."),
    ]
    details = {
        "orders": len(shop.orders),
        "commands": shop.commands,
        "commands_seconds": commands_seconds,
        "rounds": rounds,
        "warehouse_commands": warehouse_commands,
        "event_table_items": table_items,
        "check": check.text,
        **{c.label: c.details() for c in consumers.values()},
    }
    return rows, notes, details


def _key(mapping: Mapping) -> tuple[str, str]:
    function, source = mapping
    return function.id, source.source


def _settle(
    pipeline: Pipeline,
    mappings: list[Mapping],
    consumers: dict[tuple[str, str], Consumer],
    pollers: dict[tuple[str, str], Poller],
) -> int:
    """Poll every mapping, upstream first, and run its consumer on what is new, until a round finds nothing new;
    the rounds that found something. The garbage collector is paused throughout (collected once before)."""
    with collector_paused():
        return _rounds(pipeline, mappings, consumers, pollers)


def _rounds(
    pipeline: Pipeline,
    mappings: list[Mapping],
    consumers: dict[tuple[str, str], Consumer],
    pollers: dict[tuple[str, str], Poller],
) -> int:
    for round_ in range(MAX_ROUNDS):
        delivered = False
        for mapping in mappings:
            found = batches(mapping[1], pollers[_key(mapping)].poll())
            if found:
                pipeline.drive(consumers[_key(mapping)], found)
                delivered = True
        if not delivered:
            return round_
    raise RuntimeError(f"the order side's pipeline was not quiet after {MAX_ROUNDS} rounds")


def _rows(measured: list[Consumer], check: Check) -> list[Row]:
    rows: list[Row] = []
    for c in measured:
        metric = f"8. {c.label}: events/s over its raw write floor (moto), batches of {c.source.batch_size}"
        if not c.records:
            rows.append(Row(metric, "no event reached it", NO_TARGET, "info", figure=8))
            continue
        rows.append(
            Row(
                metric,
                f"{c.ratio:.3f} (median over {count(c.batches, 'batch')}; in all {c.per_second:,.0f}/s vs "
                f"{c.records / c.floor_seconds:,.0f}/s for {count(c.records, 'event')}; floor: "
                f"{c.floor_calls.summary()})",
                NO_TARGET,
                "info",
                figure=8,
                number=round(c.ratio, 4),
            )
        )
    rows += [
        Row(
            f"8. {c.label}: AWS calls per event",
            f"{c.per_record()} ({count(len(c.calls.calls), 'call')} for {count(c.records, 'event')}"
            + (f", {failed} refused" if (failed := sum(1 for call in c.calls.calls if call.failed)) else "")
            + ")",
            NO_TARGET,
            "info",
            figure=8,
            number=round(len(c.calls.calls) / c.records, 4),
        )
        for c in measured
        if c.records
    ]
    rows.append(
        Row(
            "8. every record processed, effects as the commands imply",
            check.text,
            "no failed record; stock invariants, one shipment per order paid in full, sales = sums, alerts add up",
            judged(check.passed),
            figure=8,
        )
    )
    return rows


def _reads_note(consumers: Iterable[Consumer], table_items: int) -> str:
    parts = []
    for c in consumers:
        queries = c.calls.operations["Query"]
        if queries:
            parts.append(
                f"{c.label} {queries:,} Queries ({c.calls.seconds_in('Query') / queries * 1000:.1f} ms each, "
                f"{c.calls.seconds_in('Query') / c.seconds:.0%} of its time)"
            )
    return (
        "8, reads: the consumers' own cost, not in the floor: "
        + ", ".join(parts)
        + f". moto's Query walks every item of the table (the event table held {table_items:,} items at the end; "
        "real DynamoDB reads the partition), so on moto a read costs more than a write here."
    )


def _upstream(c: Consumer) -> str:
    if not c.records:
        return f"{c.label}: no record"
    return (
        f"{c.label} {c.records:,} events in {count(c.batches, 'batch')}, {c.ratio:.3f} of its floor "
        f"({c.floor_calls.summary()})"
    )
