"""Notifications: account-alerts (Kinesis) -> the account-notifications SNS topic, once per alert."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.alert_messages import parse_alert_message
from ledger.components import ALERT_NOTIFIER
from ledger.entrypoints.streams import consumer, kinesis_data

logger = Logger()
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
bootstrap.start(ALERT_NOTIFIER)


def notify(record: KinesisStreamRecord) -> None:
    message = parse_alert_message(kinesis_data(record))
    sent = bootstrap.get(ALERT_NOTIFIER).notify(message.alert)
    logger.info(
        "notification",
        extra={"alert_id": message.alert.alert_id, "sent_now": sent, "correlation_id": message.correlation_id},
    )


@logger.inject_lambda_context(clear_state=True)
@consumer("notifications", logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=notify, processor=processor, context=context)
