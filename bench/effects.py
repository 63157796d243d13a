"""What figure 5's consumers made of the traffic: the judged row's check that the whole chain did its job, so the
figure's rates are not those of a broken run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bench.aws import Deployment
from bench.report import count
from bench.traffic import Traffic
from ledger.adapters.dynamodb_read_models import DynamoDBReportStore
from ledger.domain.fraud import LARGE_TRANSACTION
from ledger.domain.reports import ALL_ACCOUNTS, DailyTotals, ReportKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Check:
    passed: bool
    text: str


def check(
    plan: Traffic, deployment: Deployment, dynamodb: DynamoDBClient, *, problems: list[str], alerts_delivered: int
) -> Check:
    """Whether the read models, alerts, notifications and reports are what the commands of `plan` imply, once the
    whole chain has run (`problems`: what the caller already found wrong; `alerts_delivered`: the records the alerts
    read model received)."""
    problems = list(problems)
    s = deployment
    accounts = {item["account_id"]["S"]: item for item in scan(dynamodb, s.accounts_table)}
    versions = dict.fromkeys(plan.accounts, 0)
    for planned in plan.commands:
        versions[planned.command.account_id] += 1
    wrong = [
        account
        for account in plan.accounts
        if account not in accounts
        or int(accounts[account]["version"]["N"]) != versions[account]
        or int(accounts[account]["balance"]["N"]) != plan.balances[account]
    ]
    if wrong:
        problems.append(f"accounts read model wrong for {len(wrong)} accounts")
    alerts = scan(dynamodb, s.alerts_table)
    large = sum(1 for item in alerts if item["rule"]["S"] == LARGE_TRANSACTION)
    sent = sum(1 for item in scan(dynamodb, s.notifications_table) if item["status"]["S"] == "sent")
    if not len(alerts) == alerts_delivered == sent or large != plan.large_deposits or len(alerts) - large < plan.bursts:
        problems.append(
            f"{len(alerts)} alerts stored ({large} large), {alerts_delivered} delivered, {sent} notified; expected "
            f"{plan.large_deposits} large and at least {plan.bursts} velocity alerts"
        )
    reports = DynamoDBReportStore(dynamodb, s.reports_table)
    days: dict[date, DailyTotals] = {day: reports.totals(ReportKey(day, ALL_ACCOUNTS)) for day in plan.days}
    if days != plan.days:
        problems.append(f"daily reports {days} != {plan.days}")
    if problems:
        return Check(False, "; ".join(problems))
    return Check(
        True,
        f"no failed record; {len(accounts)} accounts at their newest version and balance; "
        f"{count(len(alerts), 'alert')} ({large} large, {len(alerts) - large} velocity) stored and notified once; "
        f"the daily reports of {count(len(days), 'day')} add up",
    )


def scan(dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """Every item of the table."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        response = dynamodb.scan(**request)
        items += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
