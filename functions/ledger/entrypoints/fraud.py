"""Fraud detection: account-transactions (Kinesis) -> alerts on account-alerts (Kinesis), partition key = account."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.alert_messages import alert_to_json
from ledger.application.messages import parse_message
from ledger.entrypoints.streams import count, failed_records_response, kinesis_data, record_id

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


@tracer.capture_method
def detect(records: list[KinesisStreamRecord]) -> set[str]:
    """Run the rules on every record and put the alerts; the ids of the records that failed."""
    components = bootstrap.components()
    failed: set[str] = set()
    sources: list[str] = []
    alerts: list[tuple[str, bytes]] = []
    for record in records:
        try:
            raised = components.fraud_detector.alerts(parse_message(kinesis_data(record)))
        except Exception:  # a poison record, or the event store failing: this record fails, the others go on
            logger.exception("fraud rules failed", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        for alert in raised or ():
            logger.info("alert raised", extra={"alert_id": alert.alert_id, "rule": alert.rule})
            sources.append(record_id(record))
            alerts.append((alert.account_id, alert_to_json(alert)))
    if alerts:
        count("AlertsRaised", len(alerts))
        refused = components.bus.put(components.settings.require("alerts_stream"), alerts)
        failed.update(sources[index] for index in refused)
    return failed


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, detect(records))
