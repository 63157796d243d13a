"""Reporting: account-transactions (Kinesis) -> daily totals per account and per day, each event counted once.
Messages are read through the aggregates' codecs: one in an older schema counts like a new one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.components import REPORTER
from ledger.entrypoints.streams import (
    consumer,
    correlation_ids,
    count_skipped,
    decoded_events,
    failed_records_response,
)

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
bootstrap.start(REPORTER, bootstrap.REGISTRY)


def report(records: list[KinesisStreamRecord]) -> set[str]:
    """Add the batch's events in as few transactions as fit; the ids of the records that failed."""
    events, failed, unknown = decoded_events(records, bootstrap.get(bootstrap.REGISTRY), logger)
    added, not_reported = bootstrap.get(REPORTER).add(events)
    count_skipped(logger, "reporting", unknown + not_reported)
    logger.info(
        "reported",
        extra={
            "added": added,
            "received": len(records),
            "correlation_ids": correlation_ids(event.record for event in events),
        },
    )
    return failed


@logger.inject_lambda_context(clear_state=True)
@consumer("reporting", logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, report(records))
