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
            Subject=f"Fraud alert: {alert.rule} on account {alert.account_id}"[:100],
            Message=json.dumps(alert_body(alert)),
            MessageAttributes={
                "alert_id": {"DataType": "String", "StringValue": alert.alert_id},
                "rule": {"DataType": "String", "StringValue": alert.rule},
                "severity": {"DataType": "String", "StringValue": alert.severity},
                "account_id": {"DataType": "String", "StringValue": alert.account_id},
            },
        )
        return response["MessageId"]
