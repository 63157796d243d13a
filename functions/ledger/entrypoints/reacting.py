"""The handler of a consumer that answers events with commands (inventory, shipping): one declaration each.

    lambda_handler = reacting_handler("inventory", inventory_reactions, reads=ORDER)

`reactions(event, find)` gives the commands an event calls for; `find(id)` is the current state of an aggregate of
type `reads` (None: no such aggregate), for reactions that depend on it (e.g. is the order still open?).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.entrypoints.streams import consumer, failed_records_response, react_in_order
from ledger.kernel.aggregate import Aggregate, RecordedEvent
from ledger.kernel.reactions import Reaction

Handler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]
Reactions = Callable[[RecordedEvent[Any], Callable[[str], Any]], list[Reaction]]


def reacting_handler(caller: str, reactions: Reactions, *, reads: Aggregate[Any, Any, Any]) -> Handler:
    logger = Logger()
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    reactor, reader = bootstrap.reactor(caller), bootstrap.reader(reads)
    bootstrap.start(reactor, reader, bootstrap.REGISTRY)

    def react(records: list[KinesisStreamRecord]) -> set[str]:
        find = bootstrap.get(reader).find
        return react_in_order(
            records,
            lambda event: reactions(event, find),
            bootstrap.get(reactor),
            bootstrap.get(bootstrap.REGISTRY),
            logger,
        )

    @logger.inject_lambda_context(clear_state=True)
    @consumer(caller, logger)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        records = [KinesisStreamRecord(raw) for raw in event.get("Records", [])]
        return failed_records_response(event, context, processor, react(records))

    return lambda_handler
