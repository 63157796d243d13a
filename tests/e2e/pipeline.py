"""What the pipeline's e2e tests share: waiting for read models, reading them whole, and the notifications the
local runtime's SNS topic delivered to its SQS queue."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from infra.topology import TOPOLOGY
from tests.e2e.client import ApiClient
from tests.e2e.local_runtime import LocalRuntime

T = TypeVar("T")

NOTIFICATION_QUEUE = "account-notifications-local"
LARGE_AMOUNT = 1_000_000  # the topology's FRAUD_LARGE_AMOUNT


def eventually(check: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.2) -> T:
    """`check()`'s first truthy result within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s (last: {result!r})")
        time.sleep(interval)


def all_accounts(api: ApiClient) -> dict[str, dict[str, Any]]:
    """Every row of the accounts read model (GET /accounts, page by page), by account id."""
    accounts: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        response = api.get("/accounts?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status == 200, response.body
        for account in response.json["accounts"]:
            assert account["account_id"] not in accounts, "an account listed twice"
            accounts[account["account_id"]] = account
        cursor = response.json["next_cursor"]
        if cursor is None:
            return accounts


def alerts_of(api: ApiClient, account_id: str | None = None) -> list[dict[str, Any]]:
    response = api.get("/alerts?limit=100" + (f"&account_id={account_id}" if account_id else ""))
    assert response.status == 200, response.body
    alerts: list[dict[str, Any]] = response.json["alerts"]
    return alerts


def report(api: ApiClient, day: str, account_id: str | None = None) -> dict[str, Any]:
    path = f"/accounts/{account_id}/reports/daily/{day}" if account_id else f"/reports/daily/{day}"
    response = api.get(path)
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json
    return body


@dataclass
class Moves:
    """The money commands sent to one account, to check its daily report against."""

    deposits: list[int] = field(default_factory=list)
    withdrawals: list[int] = field(default_factory=list)

    def totals(self, opened: int = 1) -> dict[str, Any]:
        return {
            "deposits": {"count": len(self.deposits), "total": sum(self.deposits)},
            "withdrawals": {"count": len(self.withdrawals), "total": sum(self.withdrawals)},
            "net": sum(self.deposits) - sum(self.withdrawals),
            "accounts_opened": opened,
        }


def totals_of(body: dict[str, Any]) -> dict[str, Any]:
    """A report's figures, without its date and account."""
    return {key: body[key] for key in ("deposits", "withdrawals", "net", "accounts_opened")}


def add_totals(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several reports added up."""
    bodies = list(reports)

    def total(kind: str, figure: str) -> int:
        return sum(int(body[kind][figure]) for body in bodies)

    return {
        "deposits": {"count": total("deposits", "count"), "total": total("deposits", "total")},
        "withdrawals": {"count": total("withdrawals", "count"), "total": total("withdrawals", "total")},
        "net": sum(int(body["net"]) for body in bodies),
        "accounts_opened": sum(int(body["accounts_opened"]) for body in bodies),
    }


class Notifications:
    """Every notification the runtime's topic delivered to its `-local` SQS queue, read once (received and deleted)
    and kept here: the alert each carries, in the order they were read."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._sqs = runtime.aws("sqs")
        self._url = self._sqs.get_queue_url(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        self.envelopes: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        """The alerts of every notification so far."""
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            self.envelopes += [json.loads(message["Body"]) for message in messages]
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return [json.loads(envelope["Message"]) for envelope in self.envelopes]

    def for_account(self, account_id: str) -> list[dict[str, Any]]:
        return [alert for alert in self.read() if alert["account_id"] == account_id]


def on_failure_records(runtime: LocalRuntime, queue_name: str) -> list[dict[str, Any]]:
    """The on-failure records in an event source mapping's SQS queue (left there)."""
    sqs = runtime.aws("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    records: dict[str, dict[str, Any]] = {}
    for _ in range(5):  # SQS may answer with some of the messages only
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        ):
            records[message["MessageId"]] = json.loads(message["Body"])
    return list(records.values())


READ_MODEL_TABLES: Final = tuple(table.local_name for table in TOPOLOGY.tables if table.projection)


def read_models(runtime: LocalRuntime) -> dict[str, list[str]]:
    """Every read model table's items (as sorted JSON), without the counted-event markers' expiry times (the
    moment each marker was written, not something the events decide)."""
    dynamodb = runtime.aws("dynamodb")
    models: dict[str, list[str]] = {}
    for table in READ_MODEL_TABLES:
        items: list[str] = []
        request: dict[str, Any] = {"TableName": table}
        while True:
            page = dynamodb.scan(**request)
            items += [
                json.dumps({k: v for k, v in item.items() if k != "expires_at"}, sort_keys=True)
                for item in page["Items"]
            ]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        models[table] = sorted(items)
    return models


def assert_a_replay_from_the_archive_rebuilds_every_read_model_as_it_is(runtime: LocalRuntime) -> None:
    """GIVEN a quiet pipeline WHEN every read model is replayed whole from the archive THEN each ends item for item
    as the live consumers left it, and the replay read its events from the archive."""
    runtime.wait_until_quiet(timeout=120)
    live = read_models(runtime)
    assert sum(map(len, live.values())) > 0
    replayed = runtime.tool("ledger.replay", "all")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    summary = re.match(r"(\d+) events \((\d+) from the archive, (\d+) from the event table\)", replayed.stdout)
    assert summary is not None, replayed.stdout
    assert int(summary[2]) > 0
    assert read_models(runtime) == live
