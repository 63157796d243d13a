"""Alert notifications on SNS: the alert as JSON, with its id, rule and severity as message attributes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ledger.application.alert_messages import alert_body
from ledger.domain.fraud import Alert

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotifier:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client, self._topic_arn = client, topic_arn

    def publish(self, alert: Alert) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Subject=f"Fraud alert: {alert.rule} on {_about(alert)}"[:100],
            Message=json.dumps(alert_body(alert)),
            MessageAttributes={
                "alert_id": {"DataType": "String", "StringValue": alert.alert_id},
                "rule": {"DataType": "String", "StringValue": alert.rule},
                "severity": {"DataType": "String", "StringValue": alert.severity},
            }
            | {
                name: {"DataType": "String", "StringValue": value}
                for name in ("account_id", "order_id", "customer_id")
                if (value := getattr(alert, name)) is not None
            },
        )
        return response["MessageId"]


def _about(alert: Alert) -> str:
    return f"account {alert.account_id}" if alert.account_id is not None else f"order {alert.order_id}"
