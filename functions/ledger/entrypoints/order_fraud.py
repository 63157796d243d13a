"""Order fraud detection: orders (Kinesis) -> alerts on the alerts stream (partition key: the order), joining the
account alerts' path (the alerts read model, one notification each). Each order placed is told to its customer (a
command with an Idempotency-Key derived from the event), whose stream decides the velocity rule; the customer's
OrderVelocityExceeded, on the same stream, becomes the alert. Rules in domain/order_fraud.py."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.pipeline.order_fraud import customer_reactions
from ledger.components import ALERTS_STREAM, ORDER_FRAUD_DETECTOR, ORDER_FRAUD_RULES
from ledger.entrypoints.alerting import put_alerts
from ledger.entrypoints.streams import (
    consumer,
    correlation_of,
    failed_records_response,
    forward_to,
    kinesis_data,
    react_in_order,
    record_id,
)
from ledger.kernel.aggregate import RecordedEvent
from ledger.kernel.messages import InvalidMessageError, decode_message, parse_message

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
REACTOR = bootstrap.reactor("order-fraud")
bootstrap.start(ORDER_FRAUD_DETECTOR, ORDER_FRAUD_RULES, ALERTS_STREAM, bootstrap.BUS, REACTOR)


def detect(records: list[KinesisStreamRecord]) -> set[str]:
    """Tell the customers of the orders placed, run the rules on the batch and put the alerts; the ids of the records
    that failed."""
    registry = bootstrap.get(bootstrap.REGISTRY)
    rules = bootstrap.get(ORDER_FRAUD_RULES)
    failed = react_in_order(
        records, lambda event: customer_reactions(event, rules), bootstrap.get(REACTOR), registry, logger
    )
    events: list[RecordedEvent[Any]] = []
    source: dict[str, str] = {}  # event id -> the first record that carried it
    for record in records:
        if record_id(record) in failed:  # poison, or not told to its customer yet: retried, judged then
            continue
        try:
            event = decode_message(parse_message(kinesis_data(record)), registry)
        except InvalidMessageError:  # pragma: no cover - react_in_order failed it already
            failed.add(record_id(record))
            continue
        if event is not None:
            events.append(event)
            source.setdefault(event.event_id, record_id(record))
    raised = bootstrap.get(ORDER_FRAUD_DETECTOR).alerts(events)  # the store failing fails the batch: it is retried
    alerts = ((source[event_id], alert) for event_id, found in raised.items() for alert in found)
    correlations = {key: value for event in events for key, value in correlation_of(event.record).items()}
    return failed | put_alerts(alerts, logger, correlations)


@logger.inject_lambda_context(clear_state=True)
@consumer("order-fraud", logger, forward=forward_to(ALERTS_STREAM))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, detect(records))
