"""The publisher: the DynamoDB stream of the event table -> account-transactions (Kinesis), one PutRecords per
batch, partition key = aggregate id (per-account order). A record Kinesis refuses is a batch item failure: Lambda
retries from it, so no event is dropped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.messages import message_of
from ledger.entrypoints.streams import failed_records_response, record_id, stored_event

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def publish(records: list[DynamoDBRecord]) -> set[str]:
    """Put every record's message; the ids of the records that failed."""
    failed: set[str] = set()
    ids: list[str] = []
    messages: list[tuple[str, bytes]] = []
    for record in records:
        try:
            message = message_of(stored_event(record))
        except Exception:  # a record that cannot become a message fails alone
            logger.exception("cannot publish record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        ids.append(record_id(record))
        messages.append((message.aggregate_id, message.to_json()))
    components = bootstrap.components()
    refused = components.bus.put(components.settings.require("transactions_stream"), messages) if messages else []
    if refused:
        logger.warning("Kinesis refused records", extra={"refused": len(refused), "put": len(messages)})
    failed.update(ids[index] for index in refused)
    return failed


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    return failed_records_response(event, context, processor, publish(records))
