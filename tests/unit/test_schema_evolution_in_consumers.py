"""A release that moves MoneyDeposited to schema v2 (with an upcaster from v1) keeps counting the deposits stored in
v1 everywhere: the command service's loads, the accounts read model, the public messages, fraud velocity windows,
the daily reports and the rebuild. Consumers read events through the codec, never as raw stored dicts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT, account_created_v1_to_v2
from ledger.domain.accounts import (
    AccountClosed,
    AccountCreated,
    DepositMoney,
    MoneyDeposited,
    MoneyWithdrawn,
    OpenAccount,
)
from ledger.domain.fraud import HIGH_VELOCITY
from ledger.domain.reports import DailyTotals, ReportKey
from ledger.kernel.aggregate import Registry
from ledger.kernel.codec import EventCodec, EventType
from ledger.kernel.components import Root
from ledger.kernel.records import EventRecord
from ledger.kernel.service import CommandService
from ledger.rebuild import rebuild
from tests.ledger_fixtures import SERVICE_SETTINGS
from tests.unit.pipeline_support import CTX, RAISED, START, TX, Clock, Pipeline, deliver_everything


def money_deposited_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 called the amount `amount_cents` and the description `memo`."""
    return {"account_id": data["account_id"], "amount": data["amount_cents"], "description": data.get("memo")}


ACCOUNT_V2 = replace(
    ACCOUNT,
    events=EventCodec(
        [
            EventType("AccountCreated", AccountCreated, schema_version=2, upcasters={1: account_created_v1_to_v2}),
            EventType("MoneyDeposited", MoneyDeposited, schema_version=2, upcasters={1: money_deposited_v1_to_v2}),
            EventType("MoneyWithdrawn", MoneyWithdrawn),
            EventType("AccountClosed", AccountClosed),
        ]
    ),
)


def deposit_v1(version: int, amount: int, clock: Clock) -> EventRecord:
    """A deposit as the previous release stored it: schema v1, and no state after it."""
    return EventRecord(
        "Account",
        "acc-1",
        version,
        f"00000000-0000-4000-8000-{version:012d}",
        "MoneyDeposited",
        1,
        clock().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        {"account_id": "acc-1", "amount_cents": amount, "memo": "stored by v1"},
        {"correlation_id": "old", "causation_id": "old"},
    )


def test_deposits_stored_in_v1_count_in_every_consumer_and_in_the_rebuild() -> None:
    clock = Clock(step=timedelta(seconds=2))
    pipeline = Pipeline(bootstrap.reset(), clock)
    try:
        service = CommandService(ACCOUNT_V2, pipeline.store, SERVICE_SETTINGS, clock=clock)
        pipeline.root.provide(bootstrap.REGISTRY, Registry([ACCOUNT_V2]))
        pipeline.root.provide(bootstrap.command_service(ACCOUNT), service)

        # GIVEN an account opened by the new release, then three deposits the old release stored in v1
        service.execute(OpenAccount("acc-1", "Ann", "USD", 1_000), CTX)
        old = [deposit_v1(version, 100 * version, clock) for version in (2, 3, 4)]
        for record in old:
            pipeline.store.put_raw_event(record)
        deliver_everything(pipeline)

        # THEN the read model folded them through the codec, and their public messages are in v2
        assert pipeline.account_views.state("acc-1") == service.reader.get("acc-1")
        assert service.reader.get("acc-1").balance == 1_000 + 200 + 300 + 400
        published = [json.loads(data) for _, data in pipeline.bus.streams[TX]]
        assert [(m["type"], m["schema_version"]) for m in published[1:]] == [("MoneyDeposited", 2)] * 3
        assert published[1]["data"] == {"account_id": "acc-1", "amount": 200, "description": "stored by v1"}

        # WHEN two more deposits follow within the velocity window
        service.execute(DepositMoney("acc-1", 5), CTX)
        service.execute(DepositMoney("acc-1", 7), CTX)
        deliver_everything(pipeline)

        # THEN the window of five holds the three v1 deposits, and the day's report counts all five
        (alert,) = pipeline.alert_views.newest(account_id="acc-1", limit=10)
        assert alert.rule == HIGH_VELOCITY
        assert alert.event_ids[:3] == tuple(record.event_id for record in old)
        assert alert.amount == 200 + 300 + 400 + 5 + 7
        assert [a.alert_id for a in pipeline.notifier.published] == [alert.alert_id]
        day = ReportKey(START.date(), "acc-1")
        assert pipeline.report_store.totals(day) == DailyTotals(deposits_count=5, deposits_total=912, accounts_opened=1)
        assert pipeline.account_views.state("acc-1") == service.reader.get("acc-1")
        assert len(pipeline.bus.streams[RAISED]) == 1

        # AND a rebuild from the event store reproduces every read model
        fresh = Pipeline(Root(), clock)
        fresh.root.provide(bootstrap.REGISTRY, Registry([ACCOUNT_V2])).provide(bootstrap.EVENT_STORE, pipeline.store)
        assert rebuild(["accounts", "alerts", "reports"], fresh.root) == {"accounts": 1, "alerts": 1, "reports": 6}
        assert fresh.account_views.rows == pipeline.account_views.rows
        assert fresh.alert_views.alerts == pipeline.alert_views.alerts
        assert fresh.report_store.totals(day) == pipeline.report_store.totals(day)
    finally:
        bootstrap.reset()
