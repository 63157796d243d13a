"""What the fraud consumers share: putting the alerts they raised on the alerts stream (partition key: what each is
about), each with the correlation id of the event that triggered it, and failing the records whose alerts the stream
refused, so that Lambda retries them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_lambda_powertools import Logger

from ledger import bootstrap
from ledger.application.alert_messages import alert_to_json
from ledger.components import ALERTS_STREAM
from ledger.domain.fraud import Alert
from ledger.entrypoints.streams import count


def put_alerts(raised: Iterable[tuple[str, Alert]], logger: Logger, correlations: Mapping[str, str]) -> set[str]:
    """Put each (source record id, alert); the ids of the records whose alerts were refused. `correlations` gives
    the correlation id of each event of the batch (by event id): an alert carries its triggering event's (the last
    of its event ids), in its message and its log line."""
    sources: list[str] = []
    messages: list[tuple[str, bytes]] = []
    for source, alert in raised:
        correlation_id = correlations.get(alert.event_ids[-1])
        logger.info(
            "alert raised",
            extra={
                "alert_id": alert.alert_id,
                "rule": alert.rule,
                "about": alert.subject,
                "event_id": alert.event_ids[-1],
                "correlation_id": correlation_id,
            },
        )
        sources.append(source)
        messages.append((alert.subject, alert_to_json(alert, correlation_id)))
    if not messages:
        return set()
    count("AlertsRaised", len(messages))
    refused = bootstrap.get(bootstrap.BUS).put(bootstrap.get(ALERTS_STREAM), messages)
    return {sources[index] for index in refused}
