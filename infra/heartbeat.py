"""The pipeline's heartbeat, deployed (the topology's `Heartbeat`): an EventBridge rule invokes the heartbeat function
every `rate_minutes`; the beat it records goes through every event source mapping, and each consumer notes it as the
`Heartbeat` metric with its Consumer and Source dimensions, which the heartbeat alarms (infra/monitoring.py) watch.

A rule rather than EventBridge Scheduler: a rule invokes the function through the function's resource policy (a
Lambda permission for events.amazonaws.com, scoped to this rule's ARN), so no role of its own is needed.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.access import Resources
from infra.model import EventSource, Function, Heartbeat, Topology

# EventBridge retries a firing it could not deliver this many times, within one period (`max_event_age`): after
# that the next firing is due.
RETRY_ATTEMPTS = 2


class HeartbeatSchedule(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, heartbeat: Heartbeat, functions: Mapping[str, lambda_.IFunction]
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Schedule",
            description=f"The pipeline's heartbeat: every {heartbeat.rate_minutes} minutes the {heartbeat.function} "
            "function records a beat that every stream consumer notes (docs/pipeline.md, Heartbeat)",
            schedule=events.Schedule.rate(Duration.minutes(heartbeat.rate_minutes)),
            targets=[
                targets.LambdaFunction(
                    functions[heartbeat.function],
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=Duration.minutes(heartbeat.rate_minutes),
                )
            ],
        )


def heartbeat_metric(
    topology: Topology, resources: Resources, function: Function, source: EventSource
) -> cloudwatch.Metric:
    """The beats `function` noted from `source` per heartbeat period: the metric its consumer emits (Namespace,
    metric name, Consumer = the function id, Source = the stream's or table's name as the records' eventSourceARN
    gives it, and Powertools' `service` dimension)."""
    heartbeat = topology.heartbeat
    if heartbeat is None:
        raise ValueError("the topology declares no heartbeat")
    if source.kind == "dynamodb":
        source_name = resources.tables[source.source].table_name
    else:
        source_name = topology.stream(source.source).name
    return cloudwatch.Metric(
        namespace=heartbeat.namespace,
        metric_name=heartbeat.metric,
        dimensions_map={
            "Consumer": function.id,
            "Source": source_name,
            "service": topology.environment["POWERTOOLS_SERVICE_NAME"],
        },
        statistic=cloudwatch.Stats.SUM,
        period=Duration.minutes(heartbeat.rate_minutes),
    )
