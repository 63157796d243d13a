"""The chaos run: with every chaos switch on (batches delivered twice, invocations failing before or midway through
their batch, batches shuffled), a workload of concurrent commands, bursts and large deposits converges: once the
pipeline is quiet every read model equals a fold of the event store, no alert exists twice, no notification was sent
twice, and the daily reports add up. Its own runtime, started with the chaos flags and a seed."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import (
    LARGE_AMOUNT,
    Moves,
    Notifications,
    add_totals,
    alerts_of,
    all_accounts,
    assert_a_replay_from_the_archive_rebuilds_every_read_model_as_it_is,
    report,
    totals_of,
)
from tests.e2e.support import events_of, local_only

pytestmark = local_only

# With this seed every mapping's first invocation attempt is a duplicate or fails midway (each shard's n-th attempt
# meets the same chaos in every run, local/chaos.py), so every consumer is shown redelivered records.
SEED = 20261269
CHAOS_FLAGS = (
    f"--chaos-seed={SEED}",
    "--chaos-duplicate=0.35",
    "--chaos-fail-before=0.2",
    "--chaos-fail-midway=0.25",
    "--chaos-shuffle=0.5",
)
ACCOUNTS = 6
WAVES = 8  # spread over time, so that every mapping sees many batches, not one backlog
WAVE_PAUSE_SECONDS = 1.0


@dataclass
class ChaosRun:
    runtime: LocalRuntime
    api: ApiClient
    moves: dict[str, Moves]  # what was sent to each account
    notifications: Notifications


def move(api: ApiClient, account_id: str, moves: Moves, rng: random.Random) -> None:
    """One money command: now and then a large deposit, else a small deposit or withdrawal."""
    if rng.random() < 0.25:
        kind, amount = "deposits", LARGE_AMOUNT + rng.randint(0, 500_000)
    else:
        kind, amount = rng.choice(("deposits", "deposits", "withdrawals")), rng.randint(1, 3_000)
    response = api.post(f"/accounts/{account_id}/{kind}", {"amount": amount})
    if kind == "withdrawals" and response.error_code == "insufficient_funds":
        return
    assert response.status == 200, response.body
    getattr(moves, kind).append(amount)


@pytest.fixture(scope="module")
def chaos_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosRun]:
    data_dir: Path = tmp_path_factory.mktemp("chaos") / "data"
    with LocalRuntime(data_dir, reset=True, args=CHAOS_FLAGS) as runtime:
        api = runtime.client()
        rng = random.Random(SEED)
        moves = {unique_id("chaos"): Moves() for _ in range(ACCOUNTS)}
        with ThreadPoolExecutor(ACCOUNTS) as pool:
            opened = pool.map(
                lambda account_id: api.post(
                    "/accounts", {"owner": "Chaos", "initial_balance": 5_000, "account_id": account_id}
                ),
                moves,
            )
            assert {response.status for response in opened} == {201}
            for _ in range(WAVES):  # every account moves money at once (a burst: the velocity rule fires)
                draws = [(api, account_id, moves[account_id], random.Random(rng.random())) for account_id in moves]
                list(pool.map(lambda args: move(*args), draws))
                time.sleep(WAVE_PAUSE_SECONDS)
        runtime.wait_until_quiet(timeout=180)
        yield ChaosRun(runtime, api, moves, Notifications(runtime))


def test_chaos_was_on_in_every_form_and_redelivered_to_every_consumer(chaos_run: ChaosRun) -> None:
    mappings = chaos_run.runtime.status()["mappings"]
    for action in ("duplicate", "fail-before", "fail-midway", "shuffle"):
        assert sum(mapping["chaos"].get(action, 0) for mapping in mappings) > 0, action
    # This run drives accounts only: each consumer of theirs had records delivered again (duplicated, or retried after
    # a failure); the order consumers' mappings read nothing here (tests/e2e/test_orders_chaos.py drives them).
    busy = [mapping for mapping in mappings if mapping["read"]]
    assert {m["mapping"].split(" <- ")[0] for m in busy} >= {"projector", "publisher", "fraud", "reporting", "alerts"}
    for mapping in busy:
        assert mapping["delivered"] > mapping["done"], mapping
    logged = [line for line in chaos_run.runtime.log_path.read_text().splitlines() if '"message":"chaos"' in line]
    assert len(logged) == sum(sum(mapping["chaos"].values()) for mapping in mappings)


def test_every_account_in_the_read_model_equals_the_fold_of_its_events(chaos_run: ChaosRun) -> None:
    api = chaos_run.api
    listed = all_accounts(api)
    assert set(listed) == set(chaos_run.moves)
    for account_id, row in listed.items():
        assert row == api.get(f"/accounts/{account_id}").json


def test_no_alert_exists_twice_and_each_large_deposit_raised_one(chaos_run: ChaosRun) -> None:
    api = chaos_run.api
    everything = alerts_of(api)
    ids = [alert["alert_id"] for alert in everything]
    assert len(ids) == len(set(ids))
    for account_id in chaos_run.moves:
        alerts = alerts_of(api, account_id)
        assert len({a["alert_id"] for a in alerts}) == len(alerts)
        large = [a for a in alerts if a["rule"] == "large_transaction"]
        large_events = [e for e in events_of(api, account_id) if int(e["data"].get("amount", 0)) >= LARGE_AMOUNT]
        assert sorted(a["event_ids"][0] for a in large) == sorted(e["event_id"] for e in large_events)
    assert any(alert["rule"] == "high_velocity" for alert in everything)


def test_each_alert_was_notified_exactly_once(chaos_run: ChaosRun) -> None:
    notified = [alert["alert_id"] for alert in chaos_run.notifications.read()]
    assert len(notified) == len(set(notified)), "an alert was notified twice"
    assert set(notified) == {alert["alert_id"] for alert in alerts_of(chaos_run.api)}


def test_the_daily_reports_add_up(chaos_run: ChaosRun) -> None:
    api = chaos_run.api
    days = {event["occurred_at"][:10] for account_id in chaos_run.moves for event in events_of(api, account_id)}
    if len(days) > 1:
        pytest.skip("the workload straddled midnight UTC")
    (day,) = days
    per_account = []
    for account_id, moves in chaos_run.moves.items():
        body = totals_of(report(api, day, account_id))
        assert body == moves.totals(), account_id
        per_account.append(body)
    assert totals_of(report(api, day)) == add_totals(per_account)


ARCHIVE_SUMMARY = re.compile(
    r"store: (\d+) events; archive: (\d+) events \((\d+) messages read, (\d+) repeated copies dropped\)"
)


def test_the_archive_holds_every_event_exactly_once_when_its_repeated_copies_are_dropped(chaos_run: ChaosRun) -> None:
    # GIVEN the chaos run, whose archive deliveries (one per published stream) met chaos as every mapping did
    status = chaos_run.runtime.status()
    deliveries = [m for m in status["mappings"] if m["mapping"].startswith("archive <- ")]
    assert {m["mapping"] for m in deliveries} == {
        "archive <- account-transactions",
        "archive <- orders",
        "archive <- fulfilment",
    }
    assert sum(m["chaos"].get("duplicate", 0) + m["chaos"].get("fail-midway", 0) for m in deliveries) > 0
    # WHEN the archive is verified against the event store (everything delivered: the pipeline is quiet)
    verified = chaos_run.runtime.tool("ledger.archive", "verify", "--grace-seconds", "0")
    # THEN every stored event is archived, nothing else is, each as stored; copies were written and are dropped
    assert verified.returncode == 0, verified.stdout + verified.stderr
    lines = verified.stdout.splitlines()
    assert lines[-1] == "consistent", lines
    summary = ARCHIVE_SUMMARY.match(lines[0])
    assert summary is not None, lines[0]
    stored, archived, read, repeated = map(int, summary.groups())
    assert stored == archived > ACCOUNTS * WAVES
    assert read == archived + repeated
    assert repeated > 0


def test_a_read_model_replayed_whole_from_the_archive_equals_the_live_one(chaos_run: ChaosRun) -> None:
    assert_a_replay_from_the_archive_rebuilds_every_read_model_as_it_is(chaos_run.runtime)
