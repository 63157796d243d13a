"""What the stream consumers share: reading records, and answering Lambda with the records that failed.

Consumers whose work is per record hand a record handler to Powertools' `process_partial_response`. Consumers that
batch their side effects (one PutRecords, one transaction) first do the batch's work, then let
`process_partial_response` report the records that failed in it (`failed_records_response`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger.adapters.dynamodb_event_store import record_of_item
from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.messages import InvalidMessageError, decode_message, parse_message
from ledger.kernel.reactions import Reaction, Reactor
from ledger.kernel.records import EventRecord

METRICS_NAMESPACE = "Ledger"


class RecordFailedError(Exception):
    """This record's part of the batch failed; Lambda retries from it."""


def stored_event(record: DynamoDBRecord) -> EventRecord:
    """The event a DynamoDB stream record carries (its NewImage as the store wrote it)."""
    item = record_of_item(record.raw_event["dynamodb"]["NewImage"])
    if not isinstance(item, EventRecord):  # snapshots are filtered out by the event source mapping
        raise RecordFailedError(f"{record.event_id} is not an event")
    return item


def kinesis_data(record: KinesisStreamRecord) -> bytes:
    return base64.b64decode(record.raw_event["kinesis"]["data"])


def record_id(record: DynamoDBRecord | KinesisStreamRecord) -> str:
    """The itemIdentifier Lambda wants back for a failed record: the record's sequence number."""
    if isinstance(record, DynamoDBRecord):
        return str(record.raw_event["dynamodb"]["SequenceNumber"])
    return str(record.raw_event["kinesis"]["sequenceNumber"])


def failed_records_response(
    event: dict[str, Any], context: LambdaContext, processor: BatchProcessor, failed: Collection[str]
) -> PartialItemFailureResponse:
    """The partial batch response naming exactly the records in `failed` (by record_id)."""

    def check(record: DynamoDBRecord | KinesisStreamRecord) -> None:
        if record_id(record) in failed:
            raise RecordFailedError(record_id(record))

    return process_partial_response(event=event, record_handler=check, processor=processor, context=context)


def decoded_events(
    records: list[KinesisStreamRecord], registry: Registry, logger: Logger
) -> tuple[list[RecordedEvent[Any]], set[str], int]:
    """(the typed events of the records, the ids of the poison records, how many were of types not known here)."""
    events: list[RecordedEvent[Any]] = []
    failed: set[str] = set()
    unknown = 0
    for record in records:
        try:
            event = decode_message(parse_message(kinesis_data(record)), registry)
        except InvalidMessageError:
            logger.exception("poison record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        if event is None:
            unknown += 1
        else:
            events.append(event)
    return events, failed, unknown


def react_in_order(
    records: list[KinesisStreamRecord],
    reactions_of: Callable[[RecordedEvent[Any]], list[Reaction]],
    reactor: Reactor,
    registry: Registry,
    logger: Logger,
) -> set[str]:
    """Answer each record's event with its reactions, in order; the ids of the records that failed.

    When a record's commands fail, it and every record after it fail: Lambda retries from the first failure, in
    order, so an aggregate's events are never answered out of order (those answered already answer again from their
    idempotency records). A poison record fails alone.
    """
    failed: set[str] = set()
    unknown = 0
    for index, record in enumerate(records):
        try:
            event = decode_message(parse_message(kinesis_data(record)), registry)
        except InvalidMessageError:
            logger.exception("poison record", extra={"record": record_id(record)})
            failed.add(record_id(record))
            continue
        if event is None:
            unknown += 1
            continue
        try:
            answers = reactor.react(event, reactions_of(event))
        except Exception:
            logger.exception("reaction failed", extra={"record": record_id(record), "event_id": event.event_id})
            failed.update(record_id(later) for later in records[index:])
            break
        for answer in answers:
            reaction = answer.reaction
            logger.info(
                "reacted",
                extra={
                    "event_id": event.event_id,
                    "event": event.record.event_type,
                    "command": type(reaction.command).__name__,
                    "aggregate": f"{reaction.aggregate.type} {reaction.aggregate.id_of(reaction.command)}",
                    "outcome": answer.outcome,
                },
            )
    count_skipped(logger, reactor.caller, unknown)
    return failed


def count(name: str, value: int) -> None:
    """Emit one CloudWatch metric (embedded metric format, in the log) now: nothing is written for a zero."""
    if value:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=METRICS_NAMESPACE):
            pass


def count_skipped(logger: Logger, kind: str, skipped: int) -> None:
    """Events of a type this consumer does not know are skipped, and counted, never failed."""
    if skipped:
        count("UnknownEventsSkipped", skipped)
        logger.info("skipped events of unknown types", extra={"skipped": skipped, "kind": kind})
