"""Reporting: account-transactions (Kinesis) -> daily totals per account and per day, each event counted once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.messages import EventMessage, InvalidMessageError, parse_message
from ledger.entrypoints.streams import (
    count_skipped,
    failed_records_response,
    kinesis_data,
    record_id,
)

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


@tracer.capture_method
def report(records: list[KinesisStreamRecord]) -> set[str]:
    """Add the batch's events in as few transactions as fit; the ids of the records that failed."""
    failed: set[str] = set()
    messages: list[EventMessage] = []
    for record in records:
        try:
            messages.append(parse_message(kinesis_data(record)))
        except InvalidMessageError:
            logger.exception("poison record", extra={"record": record_id(record)})
            failed.add(record_id(record))
    added, skipped = bootstrap.components().reporter.add(messages)
    count_skipped(logger, "reporting", skipped)
    logger.info("reported", extra={"added": added, "received": len(messages)})
    return failed


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, report(records))
