"""The projector: the DynamoDB stream of the event table -> the accounts read model.

Each event carries the account's state after it, and the read model keeps the newest version it was given, so of
a batch only each account's newest event needs writing: one conditional put per account per batch.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.records import EventRecord
from ledger.entrypoints.streams import count_skipped, failed_records_response, record_id, stored_event

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def project(records: list[DynamoDBRecord]) -> set[str]:
    """Apply each account's newest event of the batch; the ids of the records that failed."""
    failed: set[str] = set()
    newest: dict[str, tuple[EventRecord, list[str]]] = {}
    for record in records:
        try:
            event = stored_event(record)
        except Exception:
            logger.exception("unreadable stream record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        kept, ids = newest.get(event.aggregate_id, (event, []))
        newest[event.aggregate_id] = (event if event.version > kept.version else kept, [*ids, record_id(record)])
    projector = bootstrap.components().projector
    skipped = 0
    for event, ids in newest.values():
        try:
            applied = projector.apply(event)
        except Exception:  # the read model or the event store failing: this account's records fail
            logger.exception("projection failed", extra={"account_id": event.aggregate_id})
            failed.update(ids)
            continue
        skipped += len(ids) if applied is None else 0
        logger.debug("projected", extra={"account_id": event.aggregate_id, "version": event.version, "new": applied})
    count_skipped(logger, "projector", skipped)
    return failed


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, project(records))
