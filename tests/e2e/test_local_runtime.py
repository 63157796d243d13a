"""The local runtime itself: data survives a restart (and a crash), --reset starts empty, signals stop it cleanly,
and the gateway applies API Gateway's own limits. These need the runtime's process: they skip against a deployed
API."""

from __future__ import annotations

import json
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from tests.e2e.client import ApiClient, unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.support import assert_error, events_of, local_only

pytestmark = local_only


def test_a_restart_keeps_accounts_their_history_and_idempotency_records(data_dir: Path) -> None:
    account_id = unique_id("restart")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # GIVEN a runtime where an account was opened, money moved (once with a key, repeated), and which is stopped
    with LocalRuntime(data_dir, reset=True) as first:
        api = first.client()
        assert (
            api.post("/accounts", {"owner": "Durable", "initial_balance": 10_000, "account_id": account_id}).status
            == 201
        )
        deposit = api.post(f"/accounts/{account_id}/deposits", {"amount": 5_000}, headers=key)
        assert api.post(f"/accounts/{account_id}/deposits", {"amount": 5_000}, headers=key).json == deposit.json
        assert api.post(f"/accounts/{account_id}/withdrawals", {"amount": 2_000}).status == 200
        history = events_of(api, account_id)
        state = api.get(f"/accounts/{account_id}")
        assert first.stop(signal.SIGINT) == 0  # Ctrl-C
    assert (data_dir / "events.jsonl").stat().st_size > 0

    # WHEN a runtime starts again on the same data directory
    with LocalRuntime(data_dir, reset=False) as second:
        api = second.client()
        # THEN the account, its state and its history are as they were
        assert api.get(f"/accounts/{account_id}").json == state.json
        assert events_of(api, account_id) == history
        assert api.get(f"/accounts/{account_id}?version=2").json["balance"] == 15_000
        # AND the idempotency key still replays the first outcome, appending nothing
        repeat = api.post(f"/accounts/{account_id}/deposits", {"amount": 5_000}, headers=key)
        assert (repeat.status, repeat.json) == (200, deposit.json)
        assert_error(
            api.post(f"/accounts/{account_id}/deposits", {"amount": 1}, headers=key), 422, "idempotency_key_reused"
        )
        # AND the account carries on from its last version, and that is kept too
        assert api.post(f"/accounts/{account_id}/withdrawals", {"amount": 3_000}).json["version"] == 4
        assert second.stop(signal.SIGTERM) == 0

    with LocalRuntime(data_dir, reset=False) as third:
        assert third.client().get(f"/accounts/{account_id}").json["balance"] == 10_000


def test_the_journal_keeps_exactly_the_committed_writes_while_transactions_are_cancelled(data_dir: Path) -> None:
    """An idempotent repeat makes moto cancel a transaction (the key's record exists) and roll its tables back; the
    journal, polling moto every 2 ms here while four clients write, must never keep a rolled-back write nor miss the
    one that follows."""
    accounts = [unique_id("rollback") for _ in range(4)]

    def work(api: ApiClient, account_id: str) -> None:
        assert api.post("/accounts", {"owner": "Rollback", "account_id": account_id}).status == 201
        for round_ in range(5):
            key = {"Idempotency-Key": f"{account_id}-{round_}"}
            assert api.post(f"/accounts/{account_id}/deposits", {"amount": 100}, headers=key).status == 200
            assert api.post(f"/accounts/{account_id}/deposits", {"amount": 100}, headers=key).status == 200
            assert api.post(f"/accounts/{account_id}/withdrawals", {"amount": 1}).status == 200

    with LocalRuntime(data_dir, reset=True, env={"LOCAL_JOURNAL_POLL_SECONDS": "0.002"}) as first:
        api = first.client()
        with ThreadPoolExecutor(len(accounts)) as pool:
            list(pool.map(lambda account_id: work(api, account_id), accounts))
        histories = {account_id: events_of(api, account_id) for account_id in accounts}
    assert all(len(history) == 11 for history in histories.values())
    with LocalRuntime(data_dir, reset=False) as second:
        api = second.client()
        for account_id, history in histories.items():
            assert events_of(api, account_id) == history
            assert api.get(f"/accounts/{account_id}").json["balance"] == 5 * 99


def test_expired_idempotency_records_are_not_reloaded(data_dir: Path) -> None:
    account_id = unique_id("ttl")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with LocalRuntime(data_dir, reset=True) as runtime:
        api = runtime.client()
        assert api.post("/accounts", {"owner": "TTL", "account_id": account_id}, headers=key).status == 201
    # GIVEN a journaled idempotency record whose TTL has passed while the runtime was down
    journal = data_dir / "idempotency.jsonl"
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(entries) == 1
    entries[0]["item"]["expires_at"] = {"N": "1"}
    journal.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    # WHEN the runtime starts again
    with LocalRuntime(data_dir, reset=False) as runtime:
        # THEN the record is not in the table (DynamoDB would have expired it), while the account is
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{runtime.aws_port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        assert dynamodb.scan(TableName="ledger-idempotency")["Items"] == []
        assert runtime.client().get(f"/accounts/{account_id}").status == 200


def test_a_command_answered_before_a_crash_is_kept(data_dir: Path) -> None:
    account_id = unique_id("crash")
    # GIVEN a runtime killed (SIGKILL: nothing flushed on the way out) right after answering two commands
    runtime = LocalRuntime(data_dir, reset=True).start()
    try:
        api = runtime.client()
        assert api.post("/accounts", {"owner": "Crash", "initial_balance": 100, "account_id": account_id}).status == 201
        assert api.post(f"/accounts/{account_id}/deposits", {"amount": 23}).status == 200
    finally:
        runtime.kill()
    # WHEN it starts again, THEN what it answered is there
    with LocalRuntime(data_dir, reset=False) as restarted:
        state = restarted.client().get(f"/accounts/{account_id}").json
        assert (state["balance"], state["version"]) == (123, 2)


def test_a_torn_last_journal_line_is_cut_off_and_the_rest_is_kept(data_dir: Path) -> None:
    account_id = unique_id("torn")
    with LocalRuntime(data_dir, reset=True) as runtime:
        assert runtime.client().post("/accounts", {"owner": "Torn", "account_id": account_id}).status == 201
    # GIVEN a journal whose last line was cut short by a crash mid-write
    journal = data_dir / "events.jsonl"
    with journal.open("a") as file:
        file.write('{"op":"put","item":{"aggregate_id":{"S":"half')
    # WHEN the runtime starts, THEN the complete lines are back, and new writes append cleanly after them
    with LocalRuntime(data_dir, reset=False) as runtime:
        api = runtime.client()
        assert api.get(f"/accounts/{account_id}").status == 200
        assert api.post(f"/accounts/{account_id}/deposits", {"amount": 5}).status == 200
    assert all(json.loads(line) for line in journal.read_text().splitlines())


def test_an_unreadable_journal_line_stops_the_start_and_names_it(data_dir: Path) -> None:
    # GIVEN a journal with a complete line that is not a journal entry (an edit gone wrong, a disk error)
    data_dir.mkdir(parents=True)
    (data_dir / "events.jsonl").write_text('{"op":"put","item":{}}\nnot json at all\n')
    # WHEN the runtime starts, THEN it refuses (exit code 1), naming the file and line, rather than lose data
    runtime = LocalRuntime(data_dir, reset=False)
    with pytest.raises(RuntimeError, match=r"events\.jsonl:2 is not a journal line"):
        runtime.start(timeout=60)
    assert runtime.process is not None
    assert runtime.process.returncode == 1
    assert (data_dir / "events.jsonl").read_text().endswith("not json at all\n")


def test_reset_starts_empty(data_dir: Path) -> None:
    account_id = unique_id("reset")
    with LocalRuntime(data_dir, reset=True) as runtime:
        assert runtime.client().post("/accounts", {"owner": "Gone", "account_id": account_id}).status == 201
    with LocalRuntime(data_dir, reset=True) as runtime:
        assert_error(runtime.client().get(f"/accounts/{account_id}"), 404, "account_not_found")


def test_a_second_runtime_on_the_same_data_directory_refuses_to_start(data_dir: Path) -> None:
    with LocalRuntime(data_dir, reset=True):
        second = LocalRuntime(data_dir, reset=False)
        with pytest.raises(RuntimeError, match="another local runtime is using"):
            second.start(timeout=60)
        assert second.process is not None
        assert second.process.returncode == 1


def test_a_body_over_api_gateways_10_mb_limit_is_refused_by_the_gateway(api: ApiClient) -> None:
    response = api.post("/accounts", body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert (response.status, response.json) == (413, {"message": "Request Entity Too Large"})
    # AND the gateway still serves the next request
    assert api.get("/health").status == 200
