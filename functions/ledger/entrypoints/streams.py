"""What the stream consumers share: reading records, the pipeline's heartbeat, and answering Lambda with the records
that failed.

Consumers whose work is per record hand a record handler to Powertools' `process_partial_response`. Consumers that
batch their side effects (one PutRecords, one transaction) first do the batch's work, then let
`process_partial_response` report the records that failed in it (`failed_records_response`).

Every consumer's handler is declared with `consumer(<its topology function id>, logger)`, which takes the heartbeat's
records out of each batch before the handler sees it: it notes them (the `Heartbeat` metric, by consumer and source:
what the heartbeat alarms watch), passes them on where the consumer feeds a stream of its own (`forward`), and
nothing else happens to them: no read model, figure, alert or notification ever sees a beat.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.adapters.dynamodb_event_store import record_of_item
from ledger.domain.heartbeats import AGGREGATE_TYPE as HEARTBEAT_TYPE  # a name only: no declaration to load
from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.components import Component
from ledger.kernel.messages import InvalidMessageError, decode_message, parse_message
from ledger.kernel.records import EventRecord

if TYPE_CHECKING:  # only the consumers that answer events with commands load the command service
    from ledger.kernel.reactions import Reaction, Reactor

METRICS_NAMESPACE = "Ledger"
HEARTBEAT_METRIC = "Heartbeat"  # with the dimensions Consumer (the topology function id) and Source (its stream)

Handler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]
# Passes heartbeat records on (raw, as Lambda delivered them); the ids of those it could not.
Forward = Callable[[list[dict[str, Any]]], set[str]]


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


def correlation_keys(record: EventRecord) -> dict[str, str | None]:
    """The log keys that tie a consumer's line about an event to the request that caused it (docs/tracing.md): the
    event's id, and the correlation and causation ids its metadata carries from the command that recorded it (an
    HTTP request's X-Correlation-Id or request id; a consumer's command keeps the correlation id of the event it
    answers)."""
    return {
        "event_id": record.event_id,
        "correlation_id": record.metadata.get("correlation_id"),
        "causation_id": record.metadata.get("causation_id"),
    }


def correlation_of(record: EventRecord) -> dict[str, str]:
    """{event id: correlation id} of an event whose metadata carries one, else {}."""
    found = record.metadata.get("correlation_id")
    return {record.event_id: found} if found else {}


def correlation_ids(records: Iterable[EventRecord]) -> list[str]:
    """The distinct correlation ids of a batch's events, in order: for the one line a consumer logs per batch."""
    ids = (record.metadata.get("correlation_id") for record in records)
    return list(dict.fromkeys(found for found in ids if found))


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
            logger.exception("reaction failed", extra={"record": record_id(record), **correlation_keys(event.record)})
            failed.update(record_id(later) for later in records[index:])
            break
        for answer in answers:
            reaction = answer.reaction
            logger.info(
                "reacted",
                extra={
                    **correlation_keys(event.record),
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


# --- the heartbeat ---------------------------------------------------------------------------------------------


def consumer(name: str, logger: Logger, *, forward: Forward | None = None) -> Callable[[Handler], Handler]:
    """Declares the handler of the stream consumer `name` (its topology function id). Heartbeat records are taken
    out of each batch: noted (`note_heartbeats`), passed on with `forward` when the consumer feeds a stream (those it
    could not pass on are batch item failures, which Lambda retries), and never handed to the handler, which gets the
    other records (and is not invoked for a batch of beats only)."""

    def declare(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
            beats: list[dict[str, Any]] = []
            rest: list[dict[str, Any]] = []
            for record in event.get("Records") or []:
                (beats if is_heartbeat(record) else rest).append(record)
            if not beats:
                return handler(event, context)
            note_heartbeats(name, beats, logger)
            failed = forward(beats) if forward is not None else set()
            response: PartialItemFailureResponse = (
                handler({**event, "Records": rest}, context) if rest else {"batchItemFailures": []}
            )
            forwarded: list[PartialItemFailures] = [{"itemIdentifier": id_} for id_ in sorted(failed)]
            return {"batchItemFailures": [*response["batchItemFailures"], *forwarded]}

        handle.consumer = name  # type: ignore[attr-defined]  # what tests check against the topology
        return handle

    return declare


def is_heartbeat(record: Mapping[str, Any]) -> bool:
    """Whether a stream record (Lambda's shape) carries a heartbeat: a DynamoDB stream record of the heartbeat's
    aggregate type, or a Kinesis record whose message is of that type."""
    if "dynamodb" in record:
        image = record["dynamodb"].get("NewImage") or {}
        return bool(image.get("aggregate_type", {}).get("S") == HEARTBEAT_TYPE)
    try:
        data = base64.b64decode(record["kinesis"]["data"])
    except (KeyError, TypeError, ValueError):
        return False  # not for this check to judge: the handler fails a poison record
    if HEARTBEAT_TYPE.encode() not in data:  # most records: no JSON parse
        return False
    try:
        return bool(json.loads(data).get("aggregate_type") == HEARTBEAT_TYPE)
    except (ValueError, AttributeError):
        return False


def note_heartbeats(name: str, beats: list[dict[str, Any]], logger: Logger) -> None:
    """The marker each consumer records for the beats it received: the `Heartbeat` metric (embedded metric format,
    in the log) with the dimensions Consumer = `name` and Source = the stream's (or table's) name, one per source."""
    by_source: dict[str, int] = {}
    for record in beats:
        source = source_name(record)
        by_source[source] = by_source.get(source, 0) + 1
    for source, received in by_source.items():
        with single_metric(
            name=HEARTBEAT_METRIC, unit=MetricUnit.Count, value=received, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("Consumer", name)
            metric.add_dimension("Source", source)
        logger.info("heartbeat", extra={"consumer": name, "source": source, "beats": received})


def source_name(record: Mapping[str, Any]) -> str:
    """The name of the stream a record came from, in its eventSourceARN: the Kinesis stream's
    (`...:stream/<name>`) or, for a DynamoDB stream, its table's (`...:table/<name>/stream/<label>`)."""
    resource = str(record.get("eventSourceARN", "")).split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) > 1 else resource


def raw_record_id(record: Mapping[str, Any]) -> str:
    """`record_id` of a record as Lambda delivers it (a dict)."""
    if "dynamodb" in record:
        return str(record["dynamodb"]["SequenceNumber"])
    return str(record["kinesis"]["sequenceNumber"])


def forward_to(stream: Component[str]) -> Forward:
    """Passes heartbeats on to `stream` (a consumer's own stream, e.g. the alerts fraud detection puts), as they
    came and keyed as they came, so that the stream's readers hear the beat too."""

    def forward(beats: list[dict[str, Any]]) -> set[str]:
        messages = [(str(r["kinesis"]["partitionKey"]), base64.b64decode(r["kinesis"]["data"])) for r in beats]
        refused = bootstrap.get(bootstrap.BUS).put(bootstrap.get(stream), messages)
        return {raw_record_id(beats[index]) for index in refused}

    return forward
