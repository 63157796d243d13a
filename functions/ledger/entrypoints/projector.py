"""The projector: the DynamoDB stream of the event table -> the state read models (one per aggregate type that
declares one: `STATE_PROJECTIONS`).

Each event carries its aggregate's state after it, and a read model keeps the newest version it was given, so of a
batch only each aggregate's newest event needs writing: one conditional put per aggregate per batch.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import (
    consumer,
    correlation_ids,
    correlation_keys,
    failed_records_response,
    record_id,
    stored_event,
)
from ledger.kernel.records import EventRecord, StreamId
from ledger.projections import STATE_PROJECTIONS

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
bootstrap.start(*STATE_PROJECTIONS.values())


def project(records: list[DynamoDBRecord]) -> set[str]:
    """Apply each aggregate's newest event of the batch; the ids of the records that failed."""
    failed: set[str] = set()
    newest: dict[StreamId, tuple[EventRecord, list[str]]] = {}
    received: list[EventRecord] = []
    for record in records:
        try:
            event = stored_event(record)
        except Exception:
            logger.exception("unreadable stream record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        received.append(event)
        kept, ids = newest.get(event.stream, (event, []))
        newest[event.stream] = (event if event.version > kept.version else kept, [*ids, record_id(record)])
    for event, ids in newest.values():
        projection = STATE_PROJECTIONS.get(event.aggregate_type)
        if projection is None:  # a type no state read model is declared for (e.g. shipments): nothing to keep
            continue
        try:
            applied = bootstrap.get(projection).apply(event)
        except Exception:  # the read model or the event store failing: this aggregate's records fail
            logger.exception("projection failed", extra={"stream": str(event.stream), **correlation_keys(event)})
            failed.update(ids)
            continue
        logger.debug("projected", extra={"stream": str(event.stream), "version": event.version, "new": applied})
    logger.info(
        "projected batch",
        extra={"aggregates": len(newest), "received": len(records), "correlation_ids": correlation_ids(received)},
    )
    return failed


@logger.inject_lambda_context(clear_state=True)
@consumer("projector", logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, project(records))
