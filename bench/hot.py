"""Figure 10: a hot aggregate. N writers send commands on one account at once, each the next as soon as the previous
one answered, through the local runtime's HTTP API; and what one DynamoDB partition allows, on paper.

Through the local runtime (`python -m local --concurrency 30`, started as for figure 6, bench/lag.py), not the service
on moto with threads: each writer's command then takes the deployed path - API Gateway's event, the command
function's handler in an execution environment of its own (a worker process: its own state cache, real pauses
between tries), a DynamoDB that makes each conditional put atomic (the runtime's moto serves one request at a
time). In-process moto is not thread-safe (two threads can both pass `attribute_not_exists`), and threads sharing
one process would share one state cache, which N Lambda environments never do. Every execution environment is
started before the runs (their cold starts untimed).

The tries are counted on the runtime's moto: its request recorder (MOTO_ENABLE_RECORDING) writes every request it
serves to a file, and each writer sends its own X-Correlation-Id, which the command function stores in each event's
metadata. So each conditional put on the account's stream names the command it tried for: the lost races of a
command are its puts minus the one that landed, and its loads the Queries of the account's stream.
"""

from __future__ import annotations

import base64
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bench.lag import NotAvailableError, Result, not_available, on_local_runtime, percentile, post_command
from bench.report import Note, Row, judged
from bench.sizes import index_entries, item_size, write_units
from infra.topology import TOPOLOGY
from ledger.kernel.retries import RetryPolicy

if TYPE_CHECKING:
    from tests.e2e.client import ApiClient

BURST: Final = 30  # the case: this many deposits sent at once on one account
BURST_ROUNDS: Final = 5
WRITERS: Final = (10, 30)  # deposit-only closed loops
MIXED: Final = (20, 10)  # the mixed run: writers depositing, writers withdrawing
ENVIRONMENTS: Final = max(*WRITERS, sum(MIXED))  # the command function's execution environments
DEFAULT_COMMANDS: Final = 10  # per writer
DEPOSIT: Final = 1  # cent
WITHDRAWAL: Final = 100
OPENING: Final = 10_000_000  # the mixed run's account: never short of funds, so a refusal is a lost race
PARTITION_WCU: Final = 1_000  # per second, what one partition of a DynamoDB table serves at most
PARTITION_RCU: Final = 3_000
ITEM_OVERHEAD: Final = 100  # bytes DynamoDB counts with each item and index entry
EVENTS_TABLE: Final = TOPOLOGY.table("events")
SNAPSHOT_INTERVAL: Final = int(TOPOLOGY.environment["SNAPSHOT_INTERVAL"])
MAX_ATTEMPTS: Final = int(TOPOLOGY.environment["COMMAND_MAX_ATTEMPTS"])
BUDGET_MS: Final = int(TOPOLOGY.environment["COMMAND_RETRY_BUDGET_MS"])
POLICY: Final = RetryPolicy(MAX_ATTEMPTS, timedelta(milliseconds=BUDGET_MS))  # what the command function runs
METRIC: Final = "10. hot aggregate (local runtime)"
PAPER: Final = "10. on paper: one DynamoDB partition (1,000 WCU/s, 3,000 RCU/s) per aggregate"
DEPOSITS_TARGET: Final = "every deposit succeeds (deposits commute), history gapless, balance exact"


@dataclass(frozen=True)
class Sent:
    kind: str  # "deposits" | "withdrawals"
    correlation: str
    status: int
    code: str | None  # the error's code, if any
    sent: float
    answered: float

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


@dataclass
class Tries:
    """What the account's stream saw from the commands of one run, read from moto's request recording."""

    puts: Counter[str] = field(default_factory=Counter)  # correlation id -> conditional puts (PutItem or transaction)
    queries: int = 0  # loads of the account's stream
    event_bytes: list[int] = field(default_factory=list)  # the DynamoDB size of each event item put
    index_bytes: list[int] = field(default_factory=list)  # ... and of its entries in the table's indexes


@dataclass(frozen=True)
class Run:
    label: str
    writers: dict[str, int]  # kind -> writers
    sent: list[Sent]
    seconds: float  # from the start signal to the last response
    tries: Tries
    appended: int  # events the account gained
    balance_ok: bool
    judged: bool  # the target applies to this run; the others are informational

    def of(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]

    @property
    def landed(self) -> list[Sent]:
        return [s for s in self.sent if s.status == 200]

    def lost(self, kind: str | None = None) -> int:
        """Lost races: each command's puts beyond the one that landed (all of them for a command that did not)."""
        sent = self.sent if kind is None else self.of(kind)
        return sum(self.tries.puts[s.correlation] - (s.status == 200) for s in sent)

    @property
    def most_tries(self) -> int:
        return max((self.tries.puts[s.correlation] for s in self.sent), default=0)


def run(*, commands: int = DEFAULT_COMMANDS) -> Result:
    recording = Recording()

    def unavailable(reason: str, log: list[str]) -> Result:
        return not_available(10, f"{METRIC}: concurrent writers on one account", DEPOSITS_TARGET, reason, log)

    return on_local_runtime(
        "bench-hot-",
        lambda api, started: _measure(api, commands, started, recording),
        unavailable,
        args=("--concurrency", str(ENVIRONMENTS)),
        env=recording.environment,
    )


class Recording:
    """moto's request recorder in the runtime's process, to a file in its temporary directory."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def environment(self, tmp: Path) -> dict[str, str]:
        self.path = tmp / "moto-requests.jsonl"
        return {"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(self.path)}

    def offset(self) -> int:
        return self.path.stat().st_size if self.path is not None and self.path.exists() else 0

    def requests(self, after: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(DynamoDB operation, request body) of each DynamoDB request recorded after byte `after`."""
        if self.path is None:
            raise NotAvailableError("moto's request recording was not set up")
        with self.path.open("rb") as file:
            file.seek(after)
            for line in file:
                try:
                    entry = json.loads(line)
                except ValueError:  # the line being written
                    continue
                headers = {name.lower(): value for name, value in entry.get("headers", {}).items()}
                service, _, operation = str(headers.get("x-amz-target", "")).partition(".")
                if not service.startswith("DynamoDB_") or not entry.get("body"):
                    continue
                body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else entry["body"]
                yield operation, json.loads(body)


def _measure(api: ApiClient, commands: int, start_seconds: float, recording: Recording) -> Result:
    run_id = uuid.uuid4().hex[:8]
    environments = ENVIRONMENTS
    warmed = time.perf_counter()
    _warm_up(api, f"hot-{run_id}-warm-up")
    warm_seconds = time.perf_counter() - warmed
    depositing, withdrawing = MIXED
    burst = Plan(
        f"{BURST} concurrent deposits, {BURST_ROUNDS} rounds", {"deposits": BURST}, 0, 1, BURST_ROUNDS, judged=True
    )
    sustained = [Plan(f"{n} writers depositing", {"deposits": n}, 0, commands, 1) for n in WRITERS]
    mixed = Plan(
        f"{sum(MIXED)} writers, {depositing} depositing and {withdrawing} withdrawing",
        {"deposits": depositing, "withdrawals": withdrawing},
        OPENING,
        commands,
        1,
    )
    runs = [_run(api, recording, f"hot-{run_id}-{n}", plan) for n, plan in enumerate([burst, *sustained, mixed])]
    rows = [_row(r) for r in runs]
    paper, paper_note = _on_paper(runs)
    rows.append(paper)
    notes: list[Note] = [
        (
            10,
            f"10: the local runtime ran the command function in up to {environments} execution environments (worker "
            f"processes, --concurrency {environments}), all started before the runs ({warm_seconds:.1f} s of cold "
            f"starts, untimed; the runtime itself started in {start_seconds:.1f} s). The judged run is the issue's "
            f"case: {BURST} deposits sent at once on one account (a thread each, released together), {BURST_ROUNDS} "
            "times, the next round when the last answered. The other runs are closed loops, informational: each "
            f"writer is a thread sending {commands} commands back to back (the next when the previous answered) on "
            "one account opened for the run, all writers released at once, so they measure the emulation's "
            "ceiling on one aggregate (see the queueing note); "
            f"deposits of {DEPOSIT} cent, withdrawals of {WITHDRAWAL / 100:.2f} "
            f"from {OPENING / 100:,.2f} (never short of funds: a 409 is a lost race). appends/s = events the account "
            "gained over the time from the release to the last response. Lost races: conditional puts on the "
            "account's stream that did not land, counted on moto's request recording and attributed by each "
            "command's X-Correlation-Id; loads: its Queries. The retry policy (kernel/retries.py): full-jitter pauses "
            f"capped at {POLICY.first_cap * 1000:.0f}-{POLICY.max_cap * 1000:.0f} ms, a deposit (commuting) retries "
            f"until its {BUDGET_MS / 1000:.0f} s budget, a withdrawal stops after {MAX_ATTEMPTS} tries (409 "
            "concurrency_conflict). The whole runtime shares this 2-CPU machine: "
            "moto serves one request at a time in the runtime's process, and the stream consumers run meanwhile "
            "(projector, publisher, fraud, reporting), so appends/s here is the emulation's ceiling, not DynamoDB's.",
        ),
        (10, _queueing(runs)),
        paper_note,
    ]
    details = {
        "commands_per_writer": commands,
        "warm_up_seconds": warm_seconds,
        "runs": [
            {
                "label": r.label,
                "writers": r.writers,
                "seconds": r.seconds,
                "appended": r.appended,
                "statuses": dict(Counter(f"{s.kind} {s.status} {s.code or ''}".strip() for s in r.sent)),
                "lost_races": r.lost(),
                "queries": r.tries.queries,
                "most_tries": r.most_tries,
                "latency_seconds": {kind: [s.seconds for s in r.of(kind)] for kind in r.writers},
                "balance_ok": r.balance_ok,
            }
            for r in runs
        ],
    }
    return rows, notes, details


def _warm_up(api: ApiClient, account: str, environments: int = ENVIRONMENTS) -> None:
    """Start the command function's execution environments: rounds of concurrent deposits, 10 more writers each
    round (an environment starts when a request finds every one busy), so that at most 10 start at once."""
    post_command(api, "/accounts", {"owner": "Bench", "initial_balance": 0, "account_id": account})
    for writers in range(10, environments + 10, 10):
        _concurrently(api, account, {"deposits": min(writers, environments)}, 1)


@dataclass(frozen=True)
class Plan:
    label: str
    writers: dict[str, int]  # kind -> writers
    opening: int  # the account's opening balance
    commands: int  # per writer and round, back to back
    rounds: int  # the writers released together this many times, each round when the last one answered
    judged: bool = False  # the row the target applies to (the others are informational)


def _run(api: ApiClient, recording: Recording, account: str, plan: Plan) -> Run:
    post_command(api, "/accounts", {"owner": "Bench", "initial_balance": plan.opening, "account_id": account})
    offset = recording.offset()
    sent: list[Sent] = []
    seconds = 0.0
    for _ in range(plan.rounds):
        round_sent, round_seconds = _concurrently(api, account, plan.writers, plan.commands)
        sent += round_sent
        seconds += round_seconds
    tries = _tries(recording, offset, account)
    state = api.get(f"/accounts/{account}")
    if state.status != 200 or not isinstance(state.json, dict):
        raise NotAvailableError(f"GET /accounts/{account} answered {state.status}")
    landed = Counter(s.kind for s in sent if s.status == 200)
    balance = plan.opening + landed["deposits"] * DEPOSIT - landed["withdrawals"] * WITHDRAWAL
    appended = int(state.json["version"]) - 1
    balance_ok = int(state.json["balance"]) == balance and appended == sum(landed.values())
    return Run(plan.label, plan.writers, sent, seconds, tries, appended, balance_ok, plan.judged)


def _concurrently(api: ApiClient, account: str, writers: dict[str, int], commands: int) -> tuple[list[Sent], float]:
    """Each writer a thread sending `commands` of its kind back to back, all released at once; what each command
    answered, and the seconds from the release to the last response."""
    from tests.e2e.client import ApiClient

    kinds = [kind for kind, count in writers.items() for _ in range(count)]
    start = threading.Barrier(len(kinds) + 1)
    results: list[list[Sent]] = [[] for _ in kinds]

    def write(number: int, kind: str) -> None:
        client = ApiClient(api.base_url, timeout=60)
        amount = DEPOSIT if kind == "deposits" else WITHDRAWAL
        start.wait()
        for _ in range(commands):
            correlation = uuid.uuid4().hex
            began = time.perf_counter()
            try:
                response = client.post(
                    f"/accounts/{account}/{kind}", {"amount": amount}, headers={"X-Correlation-Id": correlation}
                )
                status, code = response.status, response.error_code
            except OSError as error:  # a connection the runtime dropped: counted as a failure, not a crash
                status, code = 0, type(error).__name__
            results[number].append(Sent(kind, correlation, status, code, began, time.perf_counter()))

    threads = [threading.Thread(target=write, args=(n, kind), daemon=True) for n, kind in enumerate(kinds)]
    for thread in threads:
        thread.start()
    start.wait()
    released = time.perf_counter()
    for thread in threads:
        thread.join()
    sent = [s for writer in results for s in writer]
    return sent, max(s.answered for s in sent) - released


def _tries(recording: Recording, offset: int, account: str) -> Tries:
    """The conditional puts (by correlation id) and the loads the account's stream saw since `offset`."""
    table = EVENTS_TABLE.local_name
    tries = Tries()
    for operation, body in recording.requests(offset):
        if operation == "Query" and body.get("TableName") == table:
            values = body.get("ExpressionAttributeValues", {})
            if any(value == {"S": account} for value in values.values()):
                tries.queries += 1
            continue
        if operation == "PutItem":
            puts = [body]
        elif operation == "TransactWriteItems":
            puts = [item["Put"] for item in body.get("TransactItems", []) if "Put" in item]
        else:
            continue
        for put in puts:
            item = put.get("Item", {})
            if put.get("TableName") != table or item.get("aggregate_id") != {"S": account} or "metadata" not in item:
                continue  # another stream, or a snapshot (it goes with its event)
            tries.puts[item["metadata"]["M"]["correlation_id"]["S"]] += 1
            tries.event_bytes.append(item_size(item))
            tries.index_bytes += [size for _, size in index_entries(EVENTS_TABLE, item)]
    return tries


def _row(r: Run) -> Row:
    parts = []
    for kind in r.writers:
        sent = r.of(kind)
        landed = sum(1 for s in sent if s.status == 200)
        refused = Counter(f"{s.status} {s.code}" for s in sent if s.status != 200)
        refusals = ", ".join(f"{n} x {what}" for what, n in sorted(refused.items())) or "no 409"
        parts.append(f"{kind} {landed}/{len(sent)} ({landed / len(sent):.0%}; {refusals})")
    latency = "; ".join(f"{kind} {_latency([s.seconds for s in r.of(kind)])}" for kind in r.writers)
    lost = "; ".join(f"{kind} {r.lost(kind) / len(r.of(kind)):.2f}" for kind in r.writers)
    value = (
        f"{'; '.join(parts)}; {r.appended / r.seconds:,.1f} appends/s ({r.appended} in {r.seconds:.1f} s); lost races "
        f"per command: {lost} (at most {r.most_tries} tries; {r.tries.queries} loads); {latency}"
        + ("" if r.balance_ok else "; HISTORY OR BALANCE WRONG")
    )
    deposits = r.of("deposits")
    passed = r.balance_ok and all(s.status == 200 for s in deposits)
    if r.judged:
        target, result = DEPOSITS_TARGET, judged(passed)
    else:  # a closed loop: the emulation's ceiling on one aggregate, not a target (the queueing note)
        target = "info (closed loop: the local ceiling; history gapless and balance exact checked)"
        result = "info" if r.balance_ok else judged(False)
    return Row(
        f"{METRIC}: {r.label} on one account",
        value,
        target,
        result,
        figure=10,
        number=round(r.appended / r.seconds, 2),
    )


def _queueing(runs: list[Run]) -> str:
    """Little's law: N writers each with one command outstanding, at X appends a second, wait N / X seconds a
    command on average, whatever the retry policy; past the budget, a command answers 409."""
    parts = [
        f"{r.label}: {sum(r.writers.values())} / {r.appended / r.seconds:,.1f} appends/s = "
        f"{sum(r.writers.values()) / (r.appended / r.seconds):,.1f} s a command (median measured "
        f"{statistics.median(s.seconds for s in r.sent):,.1f} s)"
        for r in runs
    ]
    return (
        "10, queueing: N writers that each keep one command outstanding on one aggregate wait N / (appends a second) "
        "for each, on average (Little's law), however the retries are paced: "
        + "; ".join(parts)
        + f". Against the {BUDGET_MS / 1000:.0f} s budget, a store that lands fewer than N / {BUDGET_MS / 1000:.0f} "
        "appends a second on one aggregate must answer some commands 409, deposits included. The lost races "
        "decide how far below the store's own rate the appends stay (each lost race is a put, and most are "
        "followed by a load, that land nothing)."
    )


def _latency(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:,.0f} ms / p99 {percentile(seconds, 0.99) * 1000:,.0f} ms"


def _on_paper(runs: list[Run]) -> tuple[Row, Note]:
    """Appends per second one account's partition allows: each append writes its event item (the state with it)
    and the by_time index's entry; a lost race costs a refused put; a snapshot every SNAPSHOT_INTERVAL events is
    a transaction of the event and the snapshot."""
    sizes = [size for r in runs for size in r.tries.event_bytes]
    size = round(statistics.median(sizes)) if sizes else 0
    event = write_units(size)
    entries = [entry for r in runs for entry in r.tries.index_bytes]
    index = write_units(max(entries)) if entries else 1
    per_append = event + index
    # Every SNAPSHOT_INTERVAL-th append is a transaction: twice the units for the event, its index entry and the
    # snapshot (the state, about the event's size).
    snapshot_share = (2 * (event + index + event) - per_append) / SNAPSHOT_INTERVAL
    ceiling = PARTITION_WCU / (per_append + snapshot_share)
    busiest = max(runs, key=lambda r: r.lost() / max(r.appended, 1))
    lost = busiest.lost() / max(busiest.appended, 1)
    loaded = busiest.tries.queries / max(busiest.appended, 1)
    contended = PARTITION_WCU / (per_append + snapshot_share + lost * event)
    value = (
        f"a deposit's event item is {size:,} bytes (DynamoDB's size rules: the state rides on it) -> {event} WRU + "
        f"{index} for its by_time index entry = {per_append} WRU an append (+{snapshot_share:.2f} for the snapshot "
        f"every {SNAPSHOT_INTERVAL}): at most {ceiling:,.0f} appends/s per aggregate; at the lost races measured "
        f"here ({busiest.label}: {lost:.2f} per append, each a refused put that consumes units for the item it "
        f"finds, {event} WRU) {contended:,.0f}/s. Reads are not the limit: {loaded:.2f} "
        f"loads per append at 1 RRU each (< 4 KB, strongly consistent) against {PARTITION_RCU:,} RCU/s"
    )
    collection = size + max(entries, default=0) + 2 * ITEM_OVERHEAD
    note = (
        10,
        "10, on paper: a DynamoDB partition serves at most 1,000 write units and 3,000 read units a second, and one "
        "aggregate's stream is one partition key, so one partition, whatever the table's capacity mode: on-demand "
        "scales the table, not a key. The event table has a local secondary index (by_time), so an aggregate's "
        "item collection never splits across partitions (and is capped at 10 GB: about "
        f"{10 * 1024**3 / collection / 1e6:,.0f} million events of this size, with their index entries and "
        "DynamoDB's 100 bytes of overhead on each), and split-for-heat cannot spread a key whose writes all go to "
        "the newest sort key anyway. The lost races per append depend on how long a try takes (a load and a put: "
        "about 10-15 ms on DynamoDB, hundreds of ms on this emulation under load), so the contended figure is "
        "pessimistic for DynamoDB. Past the ceiling DynamoDB throttles the partition (the SDK retries 3 times, "
        "then the command fails with a 5xx): an account that needs more than a few hundred appends a second needs "
        "its writes spread (e.g. sub-accounts summed on read).",
    )
    row = Row(PAPER, value, "info (the issue sets no target)", "info", figure=10, number=round(ceiling, 1))
    return row, note
