"""Fraud detection: account-transactions (Kinesis) -> alerts on account-alerts (Kinesis), partition key = account."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.pipeline.fraud_detection import transaction_of
from ledger.components import ALERTS_STREAM, FRAUD_DETECTOR
from ledger.domain.fraud import Alert, Transaction
from ledger.entrypoints.alerting import put_alerts
from ledger.entrypoints.streams import (
    consumer,
    correlation_of,
    failed_records_response,
    forward_to,
    kinesis_data,
    record_id,
)
from ledger.kernel.messages import InvalidMessageError, decode_message, parse_message

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
bootstrap.start(FRAUD_DETECTOR, ALERTS_STREAM, bootstrap.BUS)


def detect(records: list[KinesisStreamRecord]) -> set[str]:
    """Run the rules on the batch (one history read per account) and put the alerts; the ids of the records that
    failed."""
    registry = bootstrap.get(bootstrap.REGISTRY)
    failed: set[str] = set()
    by_account: dict[str, list[tuple[str, Transaction]]] = {}
    correlations: dict[str, str] = {}  # event id -> its correlation id
    for record in records:
        try:
            event = decode_message(parse_message(kinesis_data(record)), registry)
        except InvalidMessageError:
            logger.exception("poison record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        transaction = transaction_of(event) if event is not None else None
        if event is not None and transaction is not None:
            by_account.setdefault(transaction.account_id, []).append((record_id(record), transaction))
            correlations.update(correlation_of(event.record))
    alerts: list[tuple[str, Alert]] = []
    for account, entries in by_account.items():
        try:
            raised = bootstrap.get(FRAUD_DETECTOR).alerts_for_account([t for _, t in entries])
        except Exception:  # the event store failing: this account's records fail, the others go on
            logger.exception("fraud rules failed", extra={"account_id": account})
            failed.update(source for source, _ in entries)
            continue
        first_source = {t.event_id: source for source, t in reversed(entries)}
        alerts += [(first_source[event_id], alert) for event_id, found in raised.items() for alert in found]
    return failed | put_alerts(alerts, logger, correlations)


@logger.inject_lambda_context(clear_state=True)
@consumer("fraud", logger, forward=forward_to(ALERTS_STREAM))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, detect(records))
