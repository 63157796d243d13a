"""The stream consumers, fed real Lambda event shapes, over in-memory stores: each effect happens exactly once."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from ledger import bootstrap
from ledger.application.alert_messages import alert_to_json, parse_alert
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.fraud import HIGH_VELOCITY, LARGE_TRANSACTION
from ledger.domain.reports import ALL_ACCOUNTS, DailyTotals, ReportKey
from ledger.entrypoints import alerts, fraud, notifications, projector, publisher, reporting
from ledger.kernel.components import Root
from ledger.kernel.messages import InvalidMessageError, message_of, parse_message
from ledger.rebuild import rebuild
from tests.unit.pipeline_support import (
    CTX,
    RAISED,
    START,
    TX,
    Clock,
    Pipeline,
    deliver_everything,
    invoke,
    kinesis_event,
)


def test_the_public_message_is_the_event_in_its_current_schema_without_the_state(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 100), CTX)
    (record,) = pipeline.events()
    message = json.loads(message_of(record, AGGREGATES).to_json())
    assert set(message) == {
        "event_id",
        "aggregate_type",
        "aggregate_id",
        "version",
        "type",
        "schema_version",
        "occurred_at",
        "data",
        "metadata",
    }
    assert (message["type"], message["schema_version"], message["aggregate_type"]) == ("AccountCreated", 2, "Account")
    assert parse_message(message_of(record, AGGREGATES).to_json()) == message_of(record, AGGREGATES)


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1]", b'{"event_id": 1}', json.dumps({"version": True}).encode(), b"\xff"]
)
def test_a_record_that_is_not_a_message_is_a_poison_record(raw: bytes) -> None:
    with pytest.raises(InvalidMessageError):
        parse_message(raw)


def test_the_seed_scenario_flows_to_every_read_model(pipeline: Pipeline) -> None:
    for command in (
        OpenAccount("acc-1", "Ann", "USD", 10_000),
        DepositMoney("acc-1", 5_000),
        WithdrawMoney("acc-1", 2_000),
    ):
        pipeline.service.execute(command, CTX)
    deliver_everything(pipeline)
    assert pipeline.account_views.page(limit=10, cursor=None)[0] == [pipeline.service.reader.get("acc-1")]
    day = START.date()
    assert pipeline.report_store.totals(ReportKey(day, "acc-1")) == DailyTotals(1, 5_000, 1, 2_000, 1)
    assert pipeline.report_store.totals(ReportKey(day, ALL_ACCOUNTS)).net == 3_000
    assert pipeline.alert_views.newest(account_id=None, limit=10) == []


def test_a_large_deposit_raises_one_alert_and_one_notification_however_often_delivered(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 1_000_000), CTX)
    deliver_everything(pipeline)
    transactions = pipeline.kinesis(TX)
    for _ in range(2):  # redelivered twice over
        invoke(fraud.lambda_handler, transactions)
        raised = pipeline.kinesis(RAISED)
        invoke(alerts.lambda_handler, raised)
        invoke(notifications.lambda_handler, raised)

    (alert,) = pipeline.alert_views.newest(account_id="acc-1", limit=10)
    assert (alert.rule, alert.severity, alert.amount) == (LARGE_TRANSACTION, "high", 1_000_000)
    assert alert.raised_at == pipeline.events()[1].occurred_at  # event time, not the clock
    assert len(pipeline.bus.streams[RAISED]) == 3  # the alert was put three times: the same alert
    assert pipeline.notifier.published == [alert]


def test_velocity_is_judged_on_event_time_and_fires_once_per_burst(
    wire_pipeline: Callable[[Clock], Pipeline],
) -> None:
    p = wire_pipeline(Clock(step=timedelta(seconds=5)))
    p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(7):  # 7 deposits 5 s apart: the 5th completes a window of 5 within 60 s
        p.service.execute(DepositMoney("acc-1", 10), CTX)
    deliver_everything(p)
    (alert,) = p.alert_views.newest(account_id="acc-1", limit=10)
    events = p.events()
    assert alert.rule == HIGH_VELOCITY
    assert alert.event_ids == tuple(e.event_id for e in events[1:6])
    assert alert.amount == 50


def test_slow_transactions_raise_nothing(wire_pipeline: Callable[[Clock], Pipeline]) -> None:
    p = wire_pipeline(Clock(step=timedelta(seconds=20)))
    p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(6):
        p.service.execute(DepositMoney("acc-1", 10), CTX)
    deliver_everything(p)
    assert p.alert_views.newest(account_id=None, limit=10) == []


def test_projection_ignores_order_and_repeats(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 0), CTX)
    for _ in range(5):
        pipeline.service.execute(DepositMoney("acc-1", 3), CTX)
    batch = pipeline.stream_batch()
    records = batch["Records"]
    random.Random(7).shuffle(records)
    invoke(projector.lambda_handler, {"Records": records + records[:3]})
    assert pipeline.account_views.page(limit=1, cursor=None)[0] == [pipeline.service.reader.get("acc-1")]


def test_an_event_whose_state_cannot_be_read_is_folded_from_the_store(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 5), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 5), CTX)
    batch = pipeline.stream_batch()
    for record in batch["Records"]:
        record["dynamodb"]["NewImage"]["state_schema_version"] = {"N": "0"}
    invoke(projector.lambda_handler, batch)
    (row,) = pipeline.account_views.page(limit=1, cursor=None)[0]
    assert (row.balance, row.version) == (10, 2)


def test_reports_count_each_event_once_under_redelivery_and_shuffling(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann", "USD", 0), CTX)
    pipeline.service.execute(OpenAccount("acc-2", "Bob", "USD", 0), CTX)
    for amount in (100, 200, 300):
        pipeline.service.execute(DepositMoney("acc-1", amount), CTX)
        pipeline.service.execute(DepositMoney("acc-2", amount * 2), CTX)
    pipeline.service.execute(WithdrawMoney("acc-2", 50), CTX)
    invoke(publisher.lambda_handler, pipeline.stream_batch())
    records = pipeline.kinesis(TX)["Records"]
    for seed in range(3):
        shuffled = list(records)
        random.Random(seed).shuffle(shuffled)
        invoke(reporting.lambda_handler, {"Records": shuffled[: len(shuffled) - seed] + shuffled[:2]})
    report = pipeline.report_store.totals
    day = START.date()
    assert report(ReportKey(day, "acc-1")) == DailyTotals(3, 600, 0, 0, 1)
    assert report(ReportKey(day, "acc-2")) == DailyTotals(3, 1_200, 1, 50, 1)
    assert report(ReportKey(day, ALL_ACCOUNTS)) == DailyTotals(6, 1_800, 1, 50, 2)


def test_consumers_skip_event_types_they_do_not_know_and_fail_poison_records(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    invoke(publisher.lambda_handler, pipeline.stream_batch())
    (good,) = pipeline.bus.streams[TX]
    unknown = json.loads(good[1]) | {"type": "InterestAccrued", "event_id": "e-2", "version": 2}
    foreign = json.loads(good[1]) | {"aggregate_type": "Invoice", "type": "InvoiceIssued", "event_id": "e-3"}
    event = kinesis_event(
        [good, ("acc-1", b"garbage"), ("acc-1", json.dumps(unknown).encode()), ("o", json.dumps(foreign).encode())]
    )
    for handler in (fraud.lambda_handler, reporting.lambda_handler):
        failed = invoke(handler, event)
        assert failed == [event["Records"][1]["kinesis"]["sequenceNumber"]]
    assert pipeline.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)).accounts_opened == 1


def test_a_record_kinesis_refuses_is_a_batch_item_failure_never_dropped(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 1), CTX)
    batch = pipeline.stream_batch()
    pipeline.bus.refuse = {1}
    assert invoke(publisher.lambda_handler, batch) == [batch["Records"][1]["dynamodb"]["SequenceNumber"]]
    assert invoke(publisher.lambda_handler, {"Records": batch["Records"][1:]}) == []  # Lambda's retry
    assert [json.loads(m)["version"] for _, m in pipeline.bus.streams[TX]] == [1, 2]


def test_alert_messages_round_trip(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 2_000_000), CTX)
    deliver_everything(pipeline)
    (alert,) = pipeline.alert_views.newest(account_id=None, limit=1)
    assert parse_alert(alert_to_json(alert)) == alert


def test_rebuild_reproduces_every_read_model_from_the_event_store(pipeline: Pipeline) -> None:
    pipeline.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    pipeline.service.execute(DepositMoney("acc-1", 3_000_000), CTX)
    pipeline.service.execute(OpenAccount("acc-2", "Bob", "EUR", 50), CTX)
    deliver_everything(pipeline)
    live = (
        pipeline.account_views.page(limit=10, cursor=None)[0],
        pipeline.alert_views.newest(account_id=None, limit=10),
        pipeline.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)),
    )
    fresh = Pipeline(Root())  # another process (the rebuild tool's), with empty read models, on the same events
    fresh.root.provide(bootstrap.EVENT_STORE, pipeline.store)
    counts = rebuild(["accounts", "alerts", "reports"], fresh.root)
    rebuilt = (
        fresh.account_views.page(limit=10, cursor=None)[0],
        fresh.alert_views.newest(account_id=None, limit=10),
        fresh.report_store.totals(ReportKey(START.date(), ALL_ACCOUNTS)),
    )
    assert rebuilt == live
    assert counts == {"accounts": 2, "alerts": 1, "reports": 3}
    assert fresh.notifier.published == []  # a rebuild never notifies again


def test_fraud_reads_the_window_from_the_store_whatever_the_batch_holds(
    wire_pipeline: Callable[[Clock], Pipeline],
) -> None:
    p = wire_pipeline(Clock(step=timedelta(seconds=5)))
    p.service.execute(OpenAccount("acc-1", "Ann"), CTX)
    for _ in range(7):
        p.service.execute(DepositMoney("acc-1", 10), CTX)
    invoke(publisher.lambda_handler, p.stream_batch())
    records = p.kinesis(TX)["Records"]
    # every record alone, then odd splits with gaps, shuffled: the same single alert each time
    for batch in [[r] for r in records] + [records[5:], records[::2], records[::-1]]:
        invoke(fraud.lambda_handler, {"Records": batch})
    alert_ids = {json.loads(data)["alert_id"] for _, data in p.bus.streams[RAISED]}
    (rule,) = {json.loads(data)["rule"] for _, data in p.bus.streams[RAISED]}
    assert len(alert_ids) == 1
    assert rule == HIGH_VELOCITY
