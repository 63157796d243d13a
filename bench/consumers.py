"""Figure 5: each stream consumer's events per second through its real Lambda handler, in-process on moto, over the
raw write floor for the same items; and the AWS calls each record costs.

The input is made by the service itself (bench/traffic.py): 600 commands through CommandService(ACCOUNT) on moto, their
records read back from the event table's DynamoDB stream and shaped as Lambda delivers them. The consumers then run
upstream first, each on its mapping's batches (its filters, its batch size), so each sees what its upstream
produced: the publisher's records on account-transactions feed fraud detection and reporting, the alerts
fraud detection put on account-alerts feed notifications and the alerts read model. Every batch is the first
delivery of its records.

The floor: the writes a consumer must make for its records, sent by hand. They are the consumer's own successful
write calls (PutItem, TransactWriteItems, UpdateItem, PutRecords, Publish), recorded as it sent them and sent again
by hand to fresh copies of the tables, streams and topic in another region of the same moto, right after each batch
(so both copies grow alike). Each consumer's writes are the least its job needs: the projector one
conditional put per account per batch (its newest state, which folds every event before it), the publisher one
PutRecords per batch, reporting one transaction per 30 events (the event's applied marker and the totals it adds to,
committed together), the alerts read model one conditional put per alert, notifications a claim (PutItem), the SNS
Publish and the mark (UpdateItem) per alert, fraud detection one PutRecords per batch that raises alerts. The floor
has no reads: fraud detection's Query per account per batch (the account's history, for the velocity window) is its
own cost, and an informational row gives the floor plus the least reading it needs (one Query per account per batch
for the items before the account's first transaction of the batch: the rest of the window is in the batch).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from bench import effects, traffic
from bench.aws import client
from bench.pipeline import FLOOR_REGION, NO_TARGET, Consumer, Poller, batches, deployed, upstream_first
from bench.report import Note, Row, count, judged
from bench.timing import timed
from infra.model import EventSource, Function
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.application.accounts import ACCOUNT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_EVENTS: Final = 600
# Consumers that read the event store for their records; the reference row gives them the least reading they need.
READERS: Final = frozenset({"fraud"})
# The account side of the pipeline: the event table's consumers, and those of the streams of account events and of
# the alerts stream (which carries no aggregate's events). The order side's consumers are figure 8's.
ACCOUNT_STREAMS: Final = frozenset(
    stream.id for stream in TOPOLOGY.streams if ACCOUNT.type in stream.aggregate_types or not stream.aggregate_types
)


def account_side(_: Function, source: EventSource) -> bool:
    return source.kind == "dynamodb" or source.source in ACCOUNT_STREAMS


def run(*, events: int = DEFAULT_EVENTS) -> tuple[list[Row], list[Note], dict[str, Any]]:
    plan = traffic.plan(events)
    with deployed() as pipeline:
        main = pipeline.main
        setup = client("dynamodb")  # unrecorded: the commands, the reference reads, the checks
        service = main.deployment.root(setup).get(bootstrap.command_service(ACCOUNT))
        commands_seconds = timed(partial(traffic.execute, service, plan))
        least_reads = (main.deployment.event_table, main.deployment.velocity_count + 2)
        consumers: list[Consumer] = []
        for function, source in upstream_first(account_side):
            consumer = Consumer(function, source)
            records = Poller(function, source, main.dynamodb, main.kinesis).poll()
            reference = partial(_least_reads, setup, least_reads) if consumer.name in READERS else None
            pipeline.drive(consumer, batches(source, records), reference)
            consumers.append(consumer)
        problems = [f"no record reached {c.name}" for c in consumers if not c.records]
        failed = sum(len(c.failed) for c in consumers)
        floor_failed = sum(1 for c in consumers for call in c.floor_calls.calls if call.failed)
        if failed or floor_failed:
            problems.append(f"{failed} failed records, {floor_failed} failed floor writes")
        delivered = sum(c.records for c in consumers if c.name == "alerts")
        check = effects.check(plan, main.deployment, setup, problems=problems, alerts_delivered=delivered)
        reports_table = main.deployment.reports_table
        reports_items = int(setup.describe_table(TableName=reports_table)["Table"].get("ItemCount", 0))

    measured = [c for c in consumers if c.records]
    rows = _rows(consumers, check)
    kinds = plan.kinds
    notes: list[Note] = [
        (
            5,
            f"5: input: {len(plan.commands):,} commands through CommandService(ACCOUNT) on moto in "
            f"{commands_seconds:.1f} s ({kinds['OpenAccount']} accounts opened, {kinds['DepositMoney']} deposits of "
            f"which {plan.large_deposits} large, {kinds['WithdrawMoney']} withdrawals; "
            f"{count(plan.bursts, 'burst')} of {traffic.BURST_LENGTH} transactions 4 s apart; event times over "
            f"{count(len(plan.days), 'UTC day')}), "
            "read back from the event table's stream and the Kinesis streams, shaped as Lambda delivers them, in each "
            "mapping's batch size after its filters. Each consumer runs once over its records (first delivery), "
            "through its lambda_handler with the composition root's components on recorded clients; Powertools' "
            "output goes to a file (Lambda sends it to CloudWatch); tracing off (not in Lambda); the garbage "
            "collector paused per batch. Ratio: the median over the batches of floor time over handler time (a "
            "burst of load from elsewhere on one side of one batch does not decide it). Floor: the consumer's own "
            "successful writes, recorded as sent and sent "
            f"again right after each batch to fresh copies of its tables, streams and topic in {FLOOR_REGION} of "
            "the same moto (no reads).",
        ),
        (5, "5, where the time goes, per record: " + "; ".join(c.split() for c in measured) + "."),
        (5, _moto_note(measured, reports_items)),
        (5, _coalescing_note(measured)),
    ]
    details = {
        "events": len(plan.commands),
        "commands_seconds": commands_seconds,
        "check": check.text,
        **{
            c.name: {
                **c.details(),
                **({"reads": c.reads, "reads_seconds": c.reads_seconds} if c.name in READERS else {}),
            }
            for c in consumers
        },
    }
    return rows, notes, details


def _rows(consumers: list[Consumer], check: effects.Check) -> list[Row]:
    rows: list[Row] = []
    for c in consumers:
        metric = f"5. {c.name}: {c.unit}s/s over its raw write floor (moto), batches of {c.source.batch_size}"
        if not c.records:
            rows.append(Row(metric, f"no {c.unit} reached it", NO_TARGET, "info", figure=5))
            continue
        rows.append(
            Row(
                metric,
                f"{c.ratio:.3f} (median over {count(c.batches, 'batch')}; in all {c.per_second:,.0f}/s vs "
                f"{c.records / c.floor_seconds:,.0f}/s for {count(c.records, c.unit)}; floor: "
                f"{c.floor_calls.summary()})",
                NO_TARGET,
                "info",
                figure=5,
                number=round(c.ratio, 4),
            )
        )
    measured = [c for c in consumers if c.records]
    rows += [
        Row(
            f"5. {c.name}: AWS calls per {c.unit}",
            f"{c.per_record()} ({count(len(c.calls.calls), 'call')} for {count(c.records, c.unit)})",
            NO_TARGET,
            "info",
            figure=5,
            number=round(len(c.calls.calls) / c.records, 4),
        )
        for c in measured
    ]
    rows += [
        Row(
            f"5. reference: {c.name}'s floor + the least reading it needs (one Query per account per batch)",
            f"{c.reference_ratio:.3f} (median over {count(c.batches, 'batch')}; in all "
            f"{c.records / (c.floor_seconds + c.reads_seconds):,.0f}/s; Query {c.reads:,} for {c.records:,} events)",
            "info (what reading once per account per batch would reach)",
            "info",
            figure=5,
            number=round(c.reference_ratio, 4),
        )
        for c in measured
        if c.name in READERS
    ]
    rows.append(
        Row(
            "5. every record processed, effects as the commands imply",
            check.text,
            "no failed record; read models, alerts, notifications, reports add up",
            judged(check.passed),
            figure=5,
        )
    )
    return rows


def _least_reads(dynamodb: DynamoDBClient, query: tuple[str, int], event: dict[str, Any]) -> Callable[[], int]:
    """What the velocity rule needs at least, for a batch: per account of the batch, the items before its first
    transaction in the batch, newest first, `query` = (the event table, velocity count + 2 items: a snapshot may sit
    between events); the rest of the window is in the batch (Kinesis keeps each account's order within a shard)."""
    table, limit = query
    first_transactions = traffic.first_transactions(event)

    def reads() -> int:
        for account, version in first_transactions.items():
            dynamodb.query(
                TableName=table,
                KeyConditionExpression="aggregate_id = :id AND seq < :version",
                ExpressionAttributeValues={":id": {"S": account}, ":version": {"N": str(version)}},
                ScanIndexForward=False,
                ConsistentRead=True,
                Limit=limit,
            )
        return len(first_transactions)

    return reads


def _moto_note(consumers: list[Consumer], reports_items: int) -> str:
    """What moto makes of the two costliest calls: fraud detection's Query and reporting's transaction."""
    by_name = {c.name: c for c in consumers}
    parts: list[str] = []
    fraud = by_name.get("fraud")
    if fraud is not None and fraud.calls.operations["Query"]:
        queries = fraud.calls.operations["Query"]
        parts.append(
            f"fraud's {queries:,} Queries (one per account per batch: the account's items from its newest "
            "transaction of the batch back to the window before its first, newest first, "
            f"{fraud.calls.items_read / queries:.1f} items each) took "
            f"{fraud.calls.seconds_in('Query') / queries * 1000:.1f} ms each, mostly moto serialising the items it "
            "returns, each with its data, metadata and state maps (docs/benchmark.md)"
        )
    reporting = by_name.get("reporting")
    if reporting is not None and reporting.calls.operations["TransactWriteItems"]:
        transactions = reporting.calls.operations["TransactWriteItems"]
        parts.append(
            f"reporting's {transactions} TransactWriteItems (30 events each: their markers and the totals they add "
            f"to) took {reporting.calls.seconds_in('TransactWriteItems') / transactions * 1000:.0f} ms each: moto "
            f"deep-copies the table a transaction writes before applying it ({reports_items:,} items at the end), so "
            "its cost grows with the table, on the floor's copy alike"
        )
    return "5, moto: " + "; ".join(parts) + "." if parts else "5, moto: -"


def _coalescing_note(consumers: list[Consumer]) -> str:
    """Calls sent against what handling each account once per batch takes."""
    parts = [
        f"projector {c.calls.operations['PutItem']:,} PutItems for {c.records:,} events ({c.pairs:,} account-batch "
        "pairs)"
        for c in consumers
        if c.name == "projector"
    ]
    parts += [
        f"{c.name} {c.calls.operations['Query']:,} Queries for {c.records:,} events ({c.reads:,} accounts with a "
        "transaction, batch by batch)"
        for c in consumers
        if c.name in READERS
    ]
    return (
        "5: each account once per batch - the projector puts only the newest state of each account of the batch "
        "(a state at version V already folds every event up to V), fraud detection reads each account's history "
        "once per batch: " + ", ".join(parts) + "."
    )
