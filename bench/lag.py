"""Figure 6: projection lag on the local runtime: from a command's HTTP response to the first GET /accounts that
shows the version it wrote, over deposits sent one at a time.

The local runtime (`python -m local --reset`, started on free ports with the e2e suite's `LocalRuntime`, its data in
a temporary directory, the shell's chaos switches off) emulates the projector's event source mapping: it polls
moto's DynamoDB stream every 250 ms, as Lambda does, and invokes the projector in a worker process. Deposits go out
one at a time, each after the previous one's response and a random pause (so commands land at every phase of the
poller's cycle, as independent clients' do; back to back, each would arrive just after a poll and wait a full
interval). Meanwhile a second thread sends GET /accounts?limit=100 every 20 ms and notes, for each response, the
version of every account; a command's lag is the time from its response to the arrival of the first GET response
that shows its version or a later one (0 when one arrived before the command's own response). The resolution is one
GET plus the 20 ms pause.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bench.report import Note, Row

if TYPE_CHECKING:
    from tests.e2e.client import ApiClient

Result = tuple[list[Row], list[Note], dict[str, Any]]

DEFAULT_COMMANDS: Final = 200
ACCOUNTS: Final = 4
POLL_PAUSE: Final = 0.02  # seconds between two GET /accounts
MEAN_PAUSE: Final = 0.1  # seconds between a command's response and the next command, on average (exponential)
GIVE_UP: Final = 15.0  # seconds: a command not visible by then counts as not seen
START_TIMEOUT: Final = 90.0
METRIC: Final = "6. projection lag (local runtime): command response -> GET /accounts shows its version"
TARGET: Final = "info (the issue sets no target; the mapping polls every 250 ms, no batching window)"


class NotAvailableError(Exception):
    """The figure cannot be measured here; the message says why."""


@dataclass(frozen=True)
class Command:
    account_id: str
    version: int
    sent: float  # perf_counter when the request went out
    answered: float  # ... when its response arrived


@dataclass
class Sightings:
    """What the poller saw: (arrival of a GET response, {account: version}), in order."""

    polls: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    request_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def first_showing(self, account_id: str, version: int) -> float | None:
        """When the first poll showing `version` (or later) of the account arrived."""
        for arrived, versions in list(self.polls):
            if versions.get(account_id, 0) >= version:
                return arrived
        return None


def run(*, commands: int = DEFAULT_COMMANDS) -> Result:
    def unavailable(reason: str, log: list[str]) -> Result:
        return not_available(6, f"{METRIC}, p50 / p99", TARGET, reason, log)

    return on_local_runtime("bench-lag-", lambda api, started: _measure(api, commands, started), unavailable)


def on_local_runtime(
    prefix: str,
    measure: Callable[[ApiClient, float], Result],
    unavailable: Callable[[str, list[str]], Result],
    *,
    args: Sequence[str] = (),
    env: Callable[[Path], Mapping[str, str]] | None = None,
) -> Result:
    """`measure(api, seconds the start took)` on `python -m local --reset` started on free ports (the e2e suite's
    `LocalRuntime`), its data in a temporary directory, the shell's chaos switches off; stopped afterwards. When it
    cannot start or the measure cannot be taken (NotAvailableError), `unavailable(reason, the log's last lines)`.
    `args`: more options of `python -m local`; `env(the temporary directory)`: more of its environment."""
    try:
        from tests.e2e.local_runtime import LocalRuntime
    except ImportError as error:
        return unavailable(f"cannot import the e2e suite's runtime starter ({error})", [])
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        no_chaos = {name: "" for name in os.environ if name.startswith("LOCAL_CHAOS")}  # the shell's switches, off
        extra = dict(env(Path(tmp))) if env is not None else {}
        runtime = LocalRuntime(
            Path(tmp) / "data", reset=True, log_path=Path(tmp) / "local.log", env=no_chaos | extra, args=args
        )
        started = time.perf_counter()
        try:
            runtime.start(timeout=START_TIMEOUT)
        except (RuntimeError, OSError) as error:
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            return unavailable(f"the local runtime did not start ({lines[0].rstrip(':')})", lines[1:])
        start_seconds = time.perf_counter() - started
        try:
            return measure(runtime.client(), start_seconds)
        except NotAvailableError as error:
            return unavailable(str(error), runtime.log_tail(3).splitlines())
        finally:
            try:
                runtime.stop()
            except RuntimeError:
                runtime.kill()


def _measure(api: ApiClient, count: int, start_seconds: float) -> Result:
    run_id = uuid.uuid4().hex[:8]
    accounts = [f"lag-{run_id}-{number}" for number in range(ACCOUNTS)]
    opened = time.perf_counter()
    for account in accounts:
        post_command(api, "/accounts", {"owner": "Bench", "initial_balance": 0, "account_id": account})
    _wait_visible(api, accounts)  # untimed: the first invocations start the workers (cold starts)
    first_seen = time.perf_counter() - opened

    sightings = Sightings()
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(api.base_url, sightings, stop), daemon=True)
    poller.start()
    rng = random.Random(6)
    sent: list[Command] = []
    try:
        for number in range(count):
            account = accounts[number % ACCOUNTS]
            start = time.perf_counter()
            body = post_command(api, f"/accounts/{account}/deposits", {"amount": 100})
            sent.append(Command(account, int(body["version"]), start, time.perf_counter()))
            time.sleep(rng.expovariate(1 / MEAN_PAUSE))
        deadline = time.perf_counter() + GIVE_UP
        while time.perf_counter() < deadline and not all(
            sightings.first_showing(c.account_id, c.version) is not None for c in sent[-ACCOUNTS:]
        ):
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join(timeout=10)

    lags: list[float] = []
    missed = 0
    for command in sent:
        seen = sightings.first_showing(command.account_id, command.version)
        if seen is None or seen - command.answered > GIVE_UP:
            missed += 1
        else:
            lags.append(max(0.0, seen - command.answered))
    if not lags:
        raise NotAvailableError(f"GET /accounts showed none of {count} deposits within {GIVE_UP:.0f} s")
    p50, p99, worst = statistics.median(lags), percentile(lags, 0.99), max(lags)
    poll = statistics.median(sightings.request_seconds) + POLL_PAUSE
    command_ms = statistics.median(c.answered - c.sent for c in sent) * 1000
    seen_text = f"{len(lags)} deposits" + (f", {missed} more not seen within {GIVE_UP:.0f} s" if missed else "")
    scope = f"{seen_text} on {ACCOUNTS} accounts, one at a time; polled every {poll * 1000:.0f} ms"
    rows = [
        Row(f"{METRIC}, p50", f"{p50 * 1000:.0f} ms ({scope})", TARGET, "info", figure=6, number=round(p50, 4)),
        Row(
            f"{METRIC}, p99",
            f"{p99 * 1000:.0f} ms (max {worst * 1000:.0f} ms)",
            TARGET,
            "info",
            figure=6,
            number=round(p99, 4),
        ),
    ]
    notes: list[Note] = [
        (
            6,
            f"6: the local runtime started in {start_seconds:.1f} s and showed its first {ACCOUNTS} accounts "
            f"{first_seen:.1f} s after they were opened (worker cold starts; untimed). Then {count} deposits, each "
            f"after the previous one's response and a random pause (mean {MEAN_PAUSE * 1000:.0f} ms), median "
            f"response {command_ms:.0f} ms; a second thread sent GET /accounts?limit=100 every {POLL_PAUSE * 1000:.0f} "
            f"ms ({len(sightings.polls)} of them, median {statistics.median(sightings.request_seconds) * 1000:.0f} "
            f"ms each; lag = the first response showing the version, so up to one poll late). p99 over {len(lags)} "
            "samples is the value below which 99% fall (linear interpolation).",
        )
    ]
    if sightings.errors:
        notes.append((6, f"6: {len(sightings.errors)} GET /accounts failed, e.g. {sightings.errors[0]}"))
    details = {
        "commands": count,
        "missed": missed,
        "lag_seconds": lags,
        "p50": p50,
        "p99": p99,
        "max": worst,
        "poll_seconds": poll,
        "command_seconds_median": command_ms / 1000,
        "start_seconds": start_seconds,
        "first_visible_seconds": first_seen,
    }
    return rows, notes, details


def post_command(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, body)
    if response.status not in (200, 201) or not isinstance(response.json, dict):
        raise NotAvailableError(f"POST {path} answered {response.status}: {response.body[:200]!r}")
    return response.json


def _versions(api: ApiClient) -> dict[str, int]:
    response = api.get("/accounts?limit=100")
    if response.status != 200 or not isinstance(response.json, dict):
        raise NotAvailableError(f"GET /accounts answered {response.status}: {response.body[:200]!r}")
    return {account["account_id"]: int(account["version"]) for account in response.json.get("accounts", [])}


def _wait_visible(api: ApiClient, accounts: list[str]) -> None:
    deadline = time.perf_counter() + GIVE_UP
    while time.perf_counter() < deadline:
        if all(account in _versions(api) for account in accounts):
            return
        time.sleep(POLL_PAUSE)
    raise NotAvailableError(f"GET /accounts did not show {ACCOUNTS} opened accounts within {GIVE_UP:.0f} s")


def _poll(base_url: str, sightings: Sightings, stop: threading.Event) -> None:
    from tests.e2e.client import ApiClient

    api = ApiClient(base_url, timeout=10)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            versions = _versions(api)
        except (NotAvailableError, OSError) as error:
            sightings.errors.append(str(error))
        else:
            arrived = time.perf_counter()
            sightings.polls.append((arrived, versions))
            sightings.request_seconds.append(arrived - start)
        stop.wait(POLL_PAUSE)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (linear interpolation)."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def not_available(figure: int, metric: str, target: str, reason: str, log: list[str]) -> Result:
    """The row that says why a figure on the local runtime has no numbers, and the runtime's last log lines, if
    any."""
    rows = [Row(metric, f"not available: {reason}", target, "info", figure=figure)]
    tail = [line[:300] for line in log[-3:]]
    notes: list[Note] = [(figure, f"{figure}: the local runtime's last log lines: " + " | ".join(tail))] if tail else []
    return rows, notes, {"not_available": reason, "log_tail": tail}
