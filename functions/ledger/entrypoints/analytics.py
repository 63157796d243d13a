"""Sales analytics: orders (Kinesis) -> sales per minute, currency and product, each event counted once (what the
dashboard and GET /analytics/sales read). Messages are read through the codec, so older schemas count too."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import (
    consumer,
    correlation_ids,
    count_skipped,
    decoded_events,
    failed_records_response,
)
from ledger.projections import ANALYST

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
bootstrap.start(ANALYST, bootstrap.REGISTRY)


def analyse(records: list[KinesisStreamRecord]) -> set[str]:
    """Add the batch's events in as few transactions as fit; the ids of the records that failed."""
    events, failed, unknown = decoded_events(records, bootstrap.get(bootstrap.REGISTRY), logger)
    added, no_figures = bootstrap.get(ANALYST).add(events)
    count_skipped(logger, "analytics", unknown)
    logger.info(
        "analysed",
        extra={
            "added": added,
            "without_figures": no_figures,
            "received": len(records),
            "correlation_ids": correlation_ids(event.record for event in events),
        },
    )
    return failed


@logger.inject_lambda_context(clear_state=True)
@consumer("analytics", logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, analyse(records))
