"""Figure 11: what a million commands of each kind cost on AWS, fan-out included, from the calls counted on moto
(bench/cost_run.py) and the price table (bench/prices.py).

Per command of a kind, summed over the command function and every consumer its events reached:

- API Gateway: one HTTP API request.
- Lambda requests: the command function's invocation, and each consumer's share of its batches, as if full: records
  it received / its mapping's batch size (the topology's; under light traffic batches are smaller and this share
  larger, up to one invocation per record).
- Lambda duration: each invocation's time modelled as our code's time measured here outside the client calls, times
  1,769 / the function's memory (Lambda gives a full vCPU at 1,769 MB and a share in proportion below it; this
  machine's core counted as one vCPU), plus an assumed latency per AWS call (`LATENCY_MS`: moto's times are not
  AWS's); times the function's memory (GB-s). Cold starts (Lambda bills the init phase) are left out: they come
  per execution environment, not per command.
- DynamoDB writes and reads, in request units from the items' real sizes (bench/sizes.py): each write its item (for
  an update, the item as it is afterwards), twice in a transaction, plus its entries in the table's indexes; each
  Query or GetItem the items it returned, rounded up to 4 KB (strongly consistent) or halved (eventually). The
  DynamoDB stream is read by Lambda: free.
- Kinesis: PUT payload units (each record's 25 KB); the shard-hours are a fixed cost (a row of their own).
- SNS: publishes (64 KB each). SQS: requests (only the mappings' on-failure queues use it, so none here).
- CloudWatch Logs: what the functions printed (measured), Lambda's START/END/REPORT lines per invocation
  (`PLATFORM_LOG_BYTES`), and the API's access log line (its format, with typical values).
"""

from __future__ import annotations

import ast
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from bench import ROOT, cost_run, prices
from bench.aws import Call
from bench.cost_run import Invocation, Measured
from bench.report import Note, Row
from bench.sizes import KB, index_entries, item_size, read_units, write_units
from infra.model import Table
from infra.topology import TOPOLOGY

FULL_VCPU_MB: Final = 1_769
# Typical latencies of a call as the SDK sees it from a Lambda function in the same region (request signed, sent,
# answered, parsed): assumed, in milliseconds.
LATENCY_MS: Final = {
    "GetItem": 5.0,
    "Query": 6.0,
    "PutItem": 7.0,
    "UpdateItem": 7.0,
    "DeleteItem": 7.0,
    "TransactWriteItems": 15.0,
    "BatchWriteItem": 12.0,
    "PutRecords": 20.0,
    "PutRecord": 15.0,
    "Publish": 20.0,
    "SendMessage": 10.0,
}
DEFAULT_LATENCY_MS: Final = 10.0
# Lambda's own lines per invocation, text format: START (about 70 bytes), END (50), REPORT with durations and memory
# (150), and the X-Ray segment line active tracing adds (100).
PLATFORM_LOG_BYTES: Final = 370
ITEM_OVERHEAD: Final = 100  # bytes DynamoDB stores with each item (and index entry)
KINESIS_UNIT: Final = 25 * KB
SNS_UNIT: Final = 64 * KB
SERVICES: Final = (
    "API Gateway",
    "Lambda requests",
    "Lambda duration",
    "DynamoDB writes",
    "DynamoDB reads",
    "Kinesis",
    "SNS",
    "SQS",
    "CloudWatch Logs",
)
TABLES: Final = {table.local_name: table for table in TOPOLOGY.tables}
METRIC: Final = "11. cost of 1 million commands (AWS list prices, us-east-1), fan-out included"


@dataclass
class Bill:
    """One kind's units and dollars per command."""

    kind: str
    commands: int
    write_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # per table
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    lambda_requests: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # per function
    gb_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    duration_ms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # modelled, per function
    doubled: float = 0.0  # write units transactions added (a transactional write takes twice the units)
    kinesis_units: float = 0.0
    sns_publishes: float = 0.0
    sqs_requests: float = 0.0
    log_bytes: float = 0.0
    stored_bytes: float = 0.0  # event-store items (and index entries) added, kept for good
    largest_item: tuple[int, str] = (0, "")  # bytes, table: the largest item put

    @property
    def usd(self) -> dict[str, float]:
        """Per million commands, per service."""
        million = prices.MILLION
        return {
            "API Gateway": prices.HTTP_API_REQUEST.of(million),
            "Lambda requests": prices.LAMBDA_REQUEST.of(sum(self.lambda_requests.values()) * million),
            "Lambda duration": prices.LAMBDA_ARM_GB_SECOND.of(sum(self.gb_seconds.values()) * million),
            "DynamoDB writes": prices.DYNAMODB_WRITE_UNIT.of(sum(self.write_units.values()) * million),
            "DynamoDB reads": prices.DYNAMODB_READ_UNIT.of(sum(self.read_units.values()) * million),
            "Kinesis": prices.KINESIS_PUT_UNIT.of(self.kinesis_units * million),
            "SNS": prices.SNS_PUBLISH.of(self.sns_publishes * million),
            "SQS": prices.SQS_REQUEST.of(self.sqs_requests * million),
            "CloudWatch Logs": prices.LOGS_INGESTED.of(self.log_bytes * million / 1024**3),
        }

    @property
    def total(self) -> float:
        return sum(self.usd.values())

    @property
    def largest(self) -> tuple[str, float]:
        return max(self.usd.items(), key=lambda pair: pair[1])

    @property
    def storage_usd_a_month(self) -> float:
        """Per million commands, each month their events are kept: storage and continuous backups."""
        gb = self.stored_bytes * prices.MILLION / 1024**3
        return prices.DYNAMODB_STORAGE.of(gb) + prices.DYNAMODB_PITR.of(gb)


def run(*, commands: int = cost_run.DEFAULT_COMMANDS) -> tuple[list[Row], list[Note], dict[str, Any]]:
    measured = cost_run.measure(commands)
    bills = [bill(m) for m in measured]
    rows = [_row(b) for b in bills]
    rows += [_largest_row(bills), _fixed_row()]
    notes: list[Note] = [(11, _assumptions(commands)), (11, _units(bills)), (11, _prices())]
    details = {
        "commands_per_kind": commands,
        "region": prices.REGION,
        "prices_as_of": prices.AS_OF,
        "kinds": {
            b.kind: {
                "usd_per_million": b.usd,
                "total": b.total,
                "write_units": dict(b.write_units),
                "read_units": dict(b.read_units),
                "lambda_requests": dict(b.lambda_requests),
                "gb_seconds": dict(b.gb_seconds),
                "duration_ms": dict(b.duration_ms),
                "kinesis_units": b.kinesis_units,
                "sns_publishes": b.sns_publishes,
                "log_bytes": b.log_bytes,
                "stored_bytes": b.stored_bytes,
            }
            for b in bills
        },
    }
    return rows, notes, details


# --- from calls to units -----------------------------------------------------------------------------------------


def bill(measured: Measured) -> Bill:
    per = 1 / measured.commands
    b = Bill(measured.kind, measured.commands)
    for invocation in measured.invocations:
        name = invocation.function.id
        share = _requests(invocation)
        b.lambda_requests[name] += share * per
        ms = _duration_ms(invocation)
        b.duration_ms[name] += ms * per
        b.gb_seconds[name] += ms / 1000 * invocation.function.memory_mb / 1024 * per
        b.log_bytes += (invocation.log_bytes + PLATFORM_LOG_BYTES * share) * per
        for call in invocation.calls:
            _count(b, call, measured.sizes_after, per)
    b.log_bytes += access_log_bytes()
    return b


def _requests(invocation: Invocation) -> float:
    """Invocations this one stands for, per its records: 1 for an HTTP request; a batch's records over its
    mapping's batch size (as if full)."""
    if invocation.source is None:
        return 1.0
    return invocation.records / invocation.source.batch_size


def _duration_ms(invocation: Invocation) -> float:
    """Our code's time here, at the function's share of a vCPU, plus the assumed latency of each call; an HTTP
    invocation is billed to the next millisecond (a batch's rounding is shared by up to its batch size of records)."""
    memory = invocation.function.memory_mb
    own = max(0.0, invocation.seconds - invocation.client_seconds) * 1000 * max(1.0, FULL_VCPU_MB / memory)
    calls = sum(LATENCY_MS.get(call.operation, DEFAULT_LATENCY_MS) for call in invocation.calls)
    total = own + calls
    return math.ceil(total) if invocation.source is None else total


def _count(b: Bill, call: Call, sizes_after: dict[tuple[str, str], int], per: float) -> None:
    params = call.params
    if call.service == "kinesis":
        records = params.get("Records") or [params]
        b.kinesis_units += sum(_kinesis_units(record) for record in records) * per
    elif call.service == "sns":
        b.sns_publishes += math.ceil(max(1, len(str(params.get("Message", "")).encode())) / SNS_UNIT) * per
    elif call.service == "sqs":
        b.sqs_requests += per
    elif call.service == "dynamodb":
        for what, units, transactional in _write_units(call, sizes_after):
            b.write_units[what] += units * (2 if transactional else 1) * per
            if transactional:
                b.doubled += units * per
        if call.operation in ("Query", "GetItem", "Scan"):
            read = TABLES.get(params.get("TableName", ""))
            b.read_units[read.id if read else "?"] += (
                read_units(call.bytes_read, consistent=bool(params.get("ConsistentRead"))) * per
            )
        if not call.failed:
            b.stored_bytes += _stored(call) * per
        for table, item in _put_items(call):
            b.largest_item = max(b.largest_item, (item_size(item), TABLES[table].id))


def _kinesis_units(record: dict[str, Any]) -> int:
    data = record.get("Data", b"")
    size = len(data if isinstance(data, bytes) else str(data).encode()) + len(record.get("PartitionKey", ""))
    return max(1, math.ceil(size / KINESIS_UNIT))


def _write_units(call: Call, sizes_after: dict[tuple[str, str], int]) -> list[tuple[str, float, bool]]:
    """(what: a table's id, or `table.index` for index entries; write units before a transaction doubles them;
    whether in a transaction) of a DynamoDB write call."""
    params = call.params
    if call.operation == "PutItem":
        return [(what, units, False) for what, units in _put(params, failed=call.failed)]
    if call.operation == "UpdateItem":
        return [(*_update(params, sizes_after), False)]
    if call.operation == "DeleteItem":
        return [(_table(params).id, 1.0, False)]
    if call.operation == "BatchWriteItem":
        return [
            (what, units, False)
            for name, requests in params["RequestItems"].items()
            for request in requests
            if "PutRequest" in request
            for what, units in _put({"TableName": name, **request["PutRequest"]}, failed=False)
        ]
    if call.operation != "TransactWriteItems":
        return []
    written: list[tuple[str, float]] = []
    for action in params["TransactItems"]:
        if "Put" in action:
            written += _put(action["Put"], failed=False)
        elif "Update" in action:
            written.append(_update(action["Update"], sizes_after))
        else:  # ConditionCheck, Delete: an item of under 1 KB
            written.append((_table(next(iter(action.values()))).id, 1.0))
    return [(what, units, True) for what, units in written]


def _table(params: dict[str, Any]) -> Table:
    return TABLES[params["TableName"]]


def _put(params: dict[str, Any], *, failed: bool) -> list[tuple[str, float]]:
    """A put's units: its item, and each of its index entries (none for a refused put, which consumes units for
    the item it found, about the size of the one it carried)."""
    table = _table(params)
    item = params["Item"]
    units = [(table.id, float(write_units(item_size(item))))]
    if not failed:
        units += [(f"{table.id}.{index}", float(write_units(size))) for index, size in index_entries(table, item)]
    return units


def _update(params: dict[str, Any], sizes_after: dict[tuple[str, str], int]) -> tuple[str, float]:
    """An update's units: the item as it is after the run (the tables updated here have no indexes)."""
    key = json.dumps(params["Key"], sort_keys=True, default=str)
    return _table(params).id, float(write_units(sizes_after.get((params["TableName"], key), 0)))


def _put_items(call: Call) -> list[tuple[str, dict[str, Any]]]:
    """(table name, item) of every item a write call puts."""
    params = call.params
    if call.operation == "PutItem":
        return [(params["TableName"], params["Item"])]
    if call.operation == "TransactWriteItems":
        return [(a["Put"]["TableName"], a["Put"]["Item"]) for a in params["TransactItems"] if "Put" in a]
    if call.operation == "BatchWriteItem":
        return [
            (name, request["PutRequest"]["Item"])
            for name, requests in params["RequestItems"].items()
            for request in requests
            if "PutRequest" in request
        ]
    return []


def _stored(call: Call) -> int:
    """Bytes an event-store write adds for good: each item put on the event table and its index entries (read
    models hold one item per aggregate, overwritten; idempotency records and counted-event markers expire)."""
    events = TOPOLOGY.table("events")
    stored = 0
    for table, item in _put_items(call):
        if table == events.local_name:
            entries = [size for _, size in index_entries(events, item)]
            stored += item_size(item) + sum(entries) + ITEM_OVERHEAD * (1 + len(entries))
    return stored


def access_log_bytes() -> int:
    """One line of the API's access log (infra/api.py's format) with typical values: a SigV4 caller's ARN, a
    command's route."""
    typical = {
        "requestId": "Jd3k2hZsoAMEVxA=",
        "ip": "203.0.113.10",
        "userArn": "arn:aws:iam::123456789012:user/ledger-client",
        "requestTime": "26/Nov/2025:08:30:00 +0000",
        "httpMethod": "POST",
        "routeKey": "POST /accounts/{account_id}/deposits",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": "214",
        "integrationLatency": "24",
        "integrationErrorMessage": "-",
    }
    return len(json.dumps({name: typical.get(name, "-") for name in access_log_format()}, separators=(",", ":")))


def access_log_format() -> dict[str, str]:
    """infra/api.py's ACCESS_LOG_FORMAT, read from its source: importing the module imports the CDK (node)."""
    source = (ROOT / "infra" / "api.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "ACCESS_LOG_FORMAT" for t in targets) and node.value:
                found: dict[str, str] = ast.literal_eval(node.value)
                return found
    raise RuntimeError("infra/api.py defines no ACCESS_LOG_FORMAT")


# --- rows and notes ------------------------------------------------------------------------------------------------


def _row(b: Bill) -> Row:
    usd = b.usd
    terms = " + ".join(f"{name} {value:.2f}" for name, value in usd.items() if value >= 0.005)
    name, largest = b.largest
    detail = _largest_detail(b, name)
    value = (
        f"${b.total:.2f} = {terms}; largest: {name} ({largest / b.total:.0%}{detail}); the events kept: "
        f"+${b.storage_usd_a_month:.2f} a month"
    )
    return Row(f"{METRIC}: {b.kind}", value, "info (the issue sets no target)", "info", figure=11, number=b.total)


def _largest_detail(b: Bill, name: str) -> str:
    if name == "DynamoDB writes":
        units, unit_price = b.write_units, prices.DYNAMODB_WRITE_UNIT
    elif name == "DynamoDB reads":
        units, unit_price = b.read_units, prices.DYNAMODB_READ_UNIT
    else:
        return ""
    parts = [f"{table} {unit_price.of(count * prices.MILLION):.2f}" for table, count in _ranked(units) if count > 0]
    return ": " + ", ".join(parts)


def _ranked(units: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(units.items(), key=lambda pair: -pair[1])


def _largest_row(bills: list[Bill]) -> Row:
    largest = Counter(b.largest[0] for b in bills)
    totals: dict[str, float] = defaultdict(float)
    for b in bills:
        for service, usd in b.usd.items():
            totals[service] += usd / len(bills)
    units = sum(sum(b.write_units.values()) for b in bills)
    indexes = sum(u for b in bills for what, u in b.write_units.items() if "." in what)
    doubled = sum(b.doubled for b in bills)
    size, table = max(b.largest_item for b in bills)
    by_table: dict[str, float] = defaultdict(float)
    for b in bills:
        for what, u in b.write_units.items():
            by_table[what.partition(".")[0]] += u
    text = (
        "; ".join(f"{service} in {n} of {len(bills)} kinds" for service, n in largest.most_common())
        + "; over one command of each kind: "
        + ", ".join(f"{service} {usd:.2f}" for service, usd in _ranked(totals)[:4])
        + f" of {sum(totals.values()):.2f} a million. Of the write units: "
        + ", ".join(f"{table} {u / units:.0%}" for table, u in _ranked(by_table) if u / units >= 0.01)
        + f" (by table, index entries included); index entries {indexes / units:.0%}, the second unit of "
        f"transactional writes {doubled / units:.0%}; the largest item put: {size:,} bytes ({table} table)"
    )
    return Row("11. the largest term", text, "info (then made smaller where a safe change could)", "info", figure=11)


def _fixed_row() -> Row:
    shards = sum(stream.shards for stream in TOPOLOGY.streams)
    kinesis = prices.KINESIS_SHARD_HOUR.of(shards * prices.HOURS_A_MONTH)
    return Row(
        "11. fixed costs a month (whatever the traffic)",
        f"Kinesis ${kinesis:.2f} ({shards} shards x {prices.HOURS_A_MONTH} h, provisioned mode); KMS keys $1 each a "
        "month; not counted: the pipeline's scheduled heartbeat, CloudWatch alarms, the dashboard's hosting",
        "info",
        "info",
        figure=11,
        number=round(kinesis, 2),
    )


def _assumptions(commands: int) -> str:
    latency = ", ".join(f"{op} {ms:g}" for op, ms in LATENCY_MS.items())
    memory = sorted({f.memory_mb for f in TOPOLOGY.functions})
    return (
        f"11: {commands} commands of each kind, each on its own aggregate, through the command function's "
        "lambda_handler (an HTTP API event for its route) on moto, its process's state cache cold (each command "
        "loads; a warm cache saves the Query), after the setup each needs (made by another process, the pipeline "
        "run until quiet); then every mapping of the topology, upstream first, round after round until quiet, "
        "through its function's handler: the calls of all of it are counted, the consumers' commands and their "
        "fan-out included. Lambda: requests = the command's invocation + each consumer's records / its batch size "
        "(full batches; light traffic makes smaller ones); duration = our code's time here outside client calls x "
        f"{FULL_VCPU_MB} / memory ({', '.join(map(str, memory))} MB: a vCPU share) + assumed latency per call (ms: "
        f"{latency}; others {DEFAULT_LATENCY_MS:g}), billed at the function's memory; cold starts not counted. "
        "DynamoDB: units from the items' sizes by DynamoDB's rules (bench/sizes.py), an update's item as it is "
        "after the run, transactions twice, index entries (by_time on events; the alerts' and orders' indexes) "
        f"one unit per KB; reads as returned, rounded to 4 KB; counters a batch shares (daily totals, sales minutes) "
        f"shared by the batches run here, up to {commands} records. Logs: printed by the handlers (measured; a "
        "consumer's line per batch shared the same way) + "
        f"{PLATFORM_LOG_BYTES} bytes of Lambda's lines per invocation + {access_log_bytes()} bytes of access log "
        "per request. Storage: event-store items and index entries (+100 bytes each) kept; read models overwrite, "
        "idempotency records and markers expire. Not counted: X-Ray (being replaced), KMS requests (data keys are "
        "cached by Kinesis and SNS), data transfer, free tiers."
    )


def _units(bills: list[Bill]) -> str:
    parts = []
    for b in bills:
        functions = ", ".join(
            f"{name} {b.lambda_requests[name]:.2f} ({b.duration_ms[name]:.1f} ms)" for name in b.lambda_requests
        )
        wru = ", ".join(f"{t} {u:.2f}" for t, u in _ranked(b.write_units))
        rru = ", ".join(f"{t} {u:.2f}" for t, u in _ranked(b.read_units))
        parts.append(
            f"{b.kind}: WRU {sum(b.write_units.values()):.2f} ({wru}; {b.doubled:.2f} of them the second unit of a "
            f"transactional write); RRU {sum(b.read_units.values()):.2f} ({rru}); Lambda invocations (ms): "
            f"{functions}; Kinesis units {b.kinesis_units:.2f}; logs {b.log_bytes:,.0f} B; kept {b.stored_bytes:,.0f} B"
        )
    return "11, per command: " + " | ".join(parts) + "."


def _prices() -> str:
    return (
        f"11, prices ({prices.REGION}, list prices as of {prices.AS_OF}, bench/prices.py): "
        + "; ".join(
            f"{p.describe()}"
            for p in (
                prices.HTTP_API_REQUEST,
                prices.LAMBDA_REQUEST,
                prices.LAMBDA_ARM_GB_SECOND,
                prices.DYNAMODB_WRITE_UNIT,
                prices.DYNAMODB_READ_UNIT,
                prices.DYNAMODB_STORAGE,
                prices.DYNAMODB_PITR,
                prices.KINESIS_PUT_UNIT,
                prices.KINESIS_SHARD_HOUR,
                prices.SNS_PUBLISH,
                prices.SQS_REQUEST,
                prices.LOGS_INGESTED,
            )
        )
        + "."
    )
