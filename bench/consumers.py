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

import importlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws

from bench import effects, traffic
from bench.aws import PIPELINE_WRITES, CallRecorder, Calls, Deployment, client, deploy_pipeline
from bench.report import Note, Row, count, judged
from bench.timing import collector_paused, timed
from infra.model import EventSource, Function
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.kernel.components import Root
from local.apigw import LambdaContext
from local.environment import function_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sns import SNSClient

DEFAULT_EVENTS: Final = 600
FLOOR_REGION: Final = "us-west-2"
NO_TARGET: Final = "info (the issue sets no target)"
# Consumers that read the event store for their records; the reference row gives them the least reading they need.
READERS: Final = frozenset({"fraud"})
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Region:
    """The pipeline's resources in one region of moto, and the recorded clients the consumers (or the floor) use."""

    dynamodb: DynamoDBClient
    kinesis: KinesisClient
    sns: SNSClient
    recorder: CallRecorder
    deployment: Deployment

    @classmethod
    def deploy(cls, region: str | None = None) -> Region:
        dynamodb, kinesis, sns = (client(service, region) for service in ("dynamodb", "kinesis", "sns"))
        return cls(
            dynamodb, kinesis, sns, CallRecorder(dynamodb, kinesis, sns), deploy_pipeline(dynamodb, kinesis, sns)
        )

    def root(self) -> Root:
        """The Lambda's composition root in this region: its settings from the deployment's environment, every part
        built by it as deployed, on these (recorded) clients."""
        return self.deployment.root(self.dynamodb, self.kinesis, self.sns)


@dataclass
class Consumer:
    function: Function
    source: EventSource
    records: int = 0
    batches: int = 0
    seconds: float = 0.0  # in the handler
    calls: Calls = field(default_factory=Calls)
    floor_seconds: float = 0.0
    floor_calls: Calls = field(default_factory=Calls)
    reads_seconds: float = 0.0  # READERS: the least reading, by hand
    reads: int = 0
    batch_seconds: list[tuple[float, float, float]] = field(default_factory=list)  # (handler, floor, reads) each
    failed: list[str] = field(default_factory=list)  # batchItemFailures' itemIdentifiers
    log_bytes: int = 0  # what it printed (Powertools' logs and metrics): Lambda sends it to CloudWatch
    pairs: int = 0  # distinct (account, batch): what one write per account per batch would send

    @property
    def name(self) -> str:
        return self.function.id

    @property
    def unit(self) -> str:
        return "alert" if self.source.source == "alerts" else "event"

    @property
    def per_second(self) -> float:
        return self.records / self.seconds

    @property
    def ratio(self) -> float:
        """Records per second over the floor's records per second, the same records: the median over the batches
        (each batch's floor time over its handler time), so that a burst of load from elsewhere on the machine
        during one side of one batch does not decide it."""
        return statistics.median(floor / handler for handler, floor, _ in self.batch_seconds)

    @property
    def reference_ratio(self) -> float:
        """The same with the least reading added to the floor (READERS)."""
        return statistics.median((floor + reads) / handler for handler, floor, reads in self.batch_seconds)

    def per_record(self) -> str:
        """Each operation's calls per record, e.g. 'PutItem 1.00'."""
        return (
            " + ".join(f"{op} {count / self.records:.2f}" for op, count in sorted(self.calls.operations.items()))
            or "no call"
        )

    def split(self) -> str:
        """Per record: the time in each client call (botocore + moto) and outside them."""
        each = 1000 / self.records
        calls = ", ".join(f"{op} {self.calls.seconds_in(op) * each:.2f} ms" for op in sorted(self.calls.operations))
        own = (self.seconds - self.calls.seconds) * each
        return (
            f"{self.name} {self.seconds * each:.2f} ms = {calls or 'no call'} in client calls + {own:.2f} ms "
            f"outside them ({self.log_bytes / self.records:,.0f} bytes of logs); "
            f"floor {self.floor_seconds * each:.2f} ms"
        )


def run(*, events: int = DEFAULT_EVENTS) -> tuple[list[Row], list[Note], dict[str, Any]]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", TOPOLOGY.environment["POWERTOOLS_SERVICE_NAME"])
    plan = traffic.plan(events)
    with mock_aws(), _printed_to_file() as printed, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        main, floor = Region.deploy(), Region.deploy(FLOOR_REGION)
        setup = client("dynamodb")  # unrecorded: the commands, the reference reads, the checks
        service = main.deployment.root(setup).get(bootstrap.command_service(ACCOUNT))
        commands_seconds = timed(partial(traffic.execute, service, plan))
        bootstrap.reset(main.root())  # before the handlers' modules are imported: they start on it
        consumers: list[Consumer] = []
        try:
            for function, source in traffic.upstream_first():
                consumer = Consumer(function, source)
                records = traffic.records_for(function, source, main.dynamodb, main.kinesis)
                _drive(consumer, traffic.batches(source, records), main=main, floor=floor, setup=setup, printed=printed)
                consumers.append(consumer)
        finally:
            bootstrap.reset()
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
                "records": c.records,
                "batches": c.batches,
                "batch_size": c.source.batch_size,
                "seconds": c.seconds,
                "per_second": c.per_second if c.records else None,
                "floor_seconds": c.floor_seconds,
                "batch_seconds": c.batch_seconds,
                "floor_client_seconds": {op: c.floor_calls.seconds_in(op) for op in sorted(c.floor_calls.operations)},
                "ratio": c.ratio if c.records else None,
                "operations": dict(c.calls.operations),
                "client_seconds": {op: c.calls.seconds_in(op) for op in sorted(c.calls.operations)},
                "floor_operations": dict(c.floor_calls.operations),
                "log_bytes": c.log_bytes,
                "account_batch_pairs": c.pairs,
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


def _drive(
    consumer: Consumer,
    batches: list[dict[str, Any]],
    *,
    main: Region,
    floor: Region,
    setup: DynamoDBClient,
    printed: Callable[[], int],
) -> None:
    """Invoke the handler on each batch, then send the batch's writes again by hand (the floor), then (READERS) the
    least reading by hand; each timed on its own."""
    module, _, attribute = consumer.function.handler.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), attribute)
    topics = {main.deployment.notification_topic_arn: floor.deployment.notification_topic_arn}
    least_reads = (main.deployment.event_table, main.deployment.velocity_count + 2)
    printed_before = printed()
    for event in batches:
        context = LambdaContext(function_name(consumer.function))
        consumer.records += len(event["Records"])
        consumer.batches += 1
        consumer.pairs += len(traffic.accounts_of(event))
        first_transactions = traffic.first_transactions(event) if consumer.name in READERS else {}
        with collector_paused():
            with main.recorder.recording() as calls:
                start = time.perf_counter()
                response = handler(event, context)
                seconds = time.perf_counter() - start
            writes = [call for call in calls.calls if call.operation in PIPELINE_WRITES and not call.failed]
            with floor.recorder.recording() as floor_calls:
                floor_seconds = timed(partial(_send_again, writes, floor, topics))
            reads_seconds = timed(partial(_least_reads, setup, least_reads, first_transactions))
        consumer.reads += len(first_transactions)
        consumer.seconds += seconds
        consumer.floor_seconds += floor_seconds
        consumer.reads_seconds += reads_seconds
        consumer.batch_seconds.append((seconds, floor_seconds, reads_seconds))
        consumer.calls.calls += calls.calls
        consumer.floor_calls.calls += floor_calls.calls
        consumer.failed += [failure["itemIdentifier"] for failure in (response or {}).get("batchItemFailures", [])]
    consumer.log_bytes = printed() - printed_before


def _send_again(writes: list[Any], floor: Region, topics: dict[str, str]) -> None:
    from botocore import xform_name

    clients: dict[str, Any] = {"dynamodb": floor.dynamodb, "kinesis": floor.kinesis, "sns": floor.sns}
    for call in writes:
        params = call.params
        if "TopicArn" in params:
            params = {**params, "TopicArn": topics[params["TopicArn"]]}
        getattr(clients[call.service], xform_name(call.operation))(**params)


def _least_reads(dynamodb: DynamoDBClient, query: tuple[str, int], first_transactions: dict[str, int]) -> None:
    """What the velocity rule needs at least: per account of the batch, the items before its first transaction in
    the batch, newest first, `query` = (the event table, velocity count + 2 items: a snapshot may sit between
    events); the rest of the window is in the batch (Kinesis keeps each account's order within a shard)."""
    table, limit = query
    for account, version in first_transactions.items():
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="aggregate_id = :id AND seq < :version",
            ExpressionAttributeValues={":id": {"S": account}, ":version": {"N": str(version)}},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=limit,
        )


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


@contextmanager
def _printed_to_file() -> Iterator[Callable[[], int]]:
    """Everything this process prints (file descriptor 1) goes to a temporary file meanwhile: the handlers'
    structured logs and metrics, which Lambda sends to CloudWatch; yields a function that says how many bytes so far."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)

        def size() -> int:
            sys.stdout.flush()
            return os.fstat(sink.fileno()).st_size

        try:
            yield size
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
