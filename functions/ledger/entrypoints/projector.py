"""The projector: the DynamoDB stream of the event table -> the accounts read model."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import count_skipped, stored_event

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def project(record: DynamoDBRecord) -> None:
    event = stored_event(record)
    applied = bootstrap.components().projector.apply(event)
    if applied is None:
        count_skipped(logger, event.aggregate_type, 1)
    else:
        logger.debug("projected", extra={"account_id": event.aggregate_id, "version": event.version, "new": applied})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=project, processor=processor, context=context)
