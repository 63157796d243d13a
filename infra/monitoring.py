"""Alarms and the CloudWatch dashboard of the event pipeline.

Alarms (no actions: they show in the console and on the dashboard; wire an SNS topic to them to page someone):
- per consumer function: its `IteratorAge` (how old the newest record it handled was when Lambda read it: the
  consumer's lag) and its `Errors` (whole invocations that failed: crashes, timeouts, a batch whose every record
  failed; a record reported as a batch item failure is retried without counting here);
- per mapping: its on-failure queue holds a message (Lambda gave up on a batch);
- per Kinesis stream: `GetRecords.IteratorAgeMilliseconds` (the slowest reader of the stream).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.access import WRITE_ACTIONS, Resources
from infra.pipeline import StreamMapping
from infra.topology import Function, TableAccess, TopicAccess, Topology

# A healthy consumer reads records within seconds of their arrival (its batching window at most). Five minutes
# behind means a poison record retrying, a failing or throttled consumer: time to look, long before the mapping's
# maximum record age (a day) would make Lambda give up on records it has not processed.
ITERATOR_AGE_THRESHOLD: Final = Duration.minutes(5)
ITERATOR_AGE_MINUTES: Final = 3  # ...in each of this many consecutive minutes
# A failed invocation is retried; a consumer failing in 3 of 5 minutes is not recovering on its own.
ERROR_MINUTES: Final = (3, 5)
PERIOD: Final = Duration.minutes(1)


class PipelineMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        functions: Mapping[str, lambda_.IFunction],
        mappings: Sequence[StreamMapping],
        resources: Resources,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = Stack.of(self).stack_name
        self._topology = topology
        self._functions = functions
        consumers = [function for function in topology.functions if function.event_sources]
        self.iterator_age_alarms = {f.id: self._iterator_age_alarm(f) for f in consumers}
        self.error_alarms = {f.id: self._error_alarm(f) for f in consumers}
        self.failure_alarms = {m.name: self._failure_alarm(m) for m in mappings}
        self.stream_alarms = {
            stream.id: self._stream_alarm(stream.id, stream.name, resources) for stream in topology.streams
        }
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._prefix}-pipeline",
            default_interval=Duration.hours(3),
            widgets=[
                [cloudwatch.TextWidget(markdown=_overview(topology), width=24, height=2 + len(mappings))],
                [
                    cloudwatch.AlarmStatusWidget(
                        title="Pipeline alarms",
                        alarms=[
                            *self.iterator_age_alarms.values(),
                            *self.error_alarms.values(),
                            *self.failure_alarms.values(),
                            *self.stream_alarms.values(),
                        ],
                        width=24,
                        height=4,
                    )
                ],
                *[self._consumer_row(f, [m for m in mappings if m.function == f]) for f in consumers],
                *[self._stream_row(stream.id, resources) for stream in topology.streams],
                [self._writes_widget(consumers, resources), self._notifications_widget(topology, resources)],
            ],
        )

    def _iterator_age(self, function: Function) -> cloudwatch.Metric:
        return self._functions[function.id].metric("IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD)

    def _iterator_age_alarm(self, function: Function) -> cloudwatch.Alarm:
        return self._iterator_age(function).create_alarm(
            self,
            f"{function.id}-iterator-age",
            alarm_name=f"{self._prefix}-{function.id}-iterator-age",
            alarm_description=f"The {function.id} consumer is more than {ITERATOR_AGE_THRESHOLD.to_minutes()} "
            "minutes behind its stream: look at its errors, its logs and its failure queue (docs/pipeline.md).",
            threshold=ITERATOR_AGE_THRESHOLD.to_milliseconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=ITERATOR_AGE_MINUTES,
            datapoints_to_alarm=ITERATOR_AGE_MINUTES,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _error_alarm(self, function: Function) -> cloudwatch.Alarm:
        datapoints, minutes = ERROR_MINUTES
        return (
            self._functions[function.id]
            .metric_errors(statistic=cloudwatch.Stats.SUM, period=PERIOD)
            .create_alarm(
                self,
                f"{function.id}-errors",
                alarm_name=f"{self._prefix}-{function.id}-errors",
                alarm_description=f"{function.id} invocations keep failing ({datapoints} of the last {minutes} "
                "minutes): Lambda retries the batch, so its shard is stuck until they succeed or give up.",
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=minutes,
                datapoints_to_alarm=datapoints,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _failure_alarm(self, mapping: StreamMapping) -> cloudwatch.Alarm:
        return mapping.failures.metric_approximate_number_of_messages_visible(
            statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
        ).create_alarm(
            self,
            f"{mapping.name}-failures",
            alarm_name=f"{self._prefix}-{mapping.name}-failures",
            alarm_description=f"{mapping.function.id} gave up on a batch of {_source_label(self._topology, mapping)}"
            ": the failure queue's message names the shard and sequence numbers. What to do: docs/pipeline.md.",
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _stream_alarm(self, stream_id: str, name: str, resources: Resources) -> cloudwatch.Alarm:
        return (
            resources.streams[stream_id]
            .metric_get_records_iterator_age_milliseconds(statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD)
            .create_alarm(
                self,
                f"{stream_id}-stream-iterator-age",
                alarm_name=f"{self._prefix}-{name}-iterator-age",
                alarm_description=f"A reader of the {name} Kinesis stream is more than "
                f"{ITERATOR_AGE_THRESHOLD.to_minutes()} minutes behind; records expire after the stream's retention.",
                threshold=ITERATOR_AGE_THRESHOLD.to_milliseconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=ITERATOR_AGE_MINUTES,
                datapoints_to_alarm=ITERATOR_AGE_MINUTES,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _consumer_row(self, function: Function, mappings: Sequence[StreamMapping]) -> list[cloudwatch.IWidget]:
        handler = self._functions[function.id]
        return [
            cloudwatch.GraphWidget(
                title=f"{function.id}: invocations and errors",
                left=[
                    handler.metric_invocations(statistic=cloudwatch.Stats.SUM, period=PERIOD),
                    handler.metric_errors(statistic=cloudwatch.Stats.SUM, period=PERIOD),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{function.id}: iterator age (ms)",
                left=[self._iterator_age(function)],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=ITERATOR_AGE_THRESHOLD.to_milliseconds(), label="alarm threshold"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{function.id}: failure queue depth",
                left=[
                    m.failures.metric_approximate_number_of_messages_visible(
                        statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD, label=f"{m.source.source} failures"
                    )
                    for m in mappings
                ],
                width=8,
            ),
        ]

    def _stream_row(self, stream_id: str, resources: Resources) -> list[cloudwatch.IWidget]:
        stream = resources.streams[stream_id]
        return [
            cloudwatch.GraphWidget(
                title=f"{stream_id} stream: incoming records",
                left=[stream.metric_incoming_records(statistic=cloudwatch.Stats.SUM, period=PERIOD)],
                right=[stream.metric_write_provisioned_throughput_exceeded(statistic=cloudwatch.Stats.SUM)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title=f"{stream_id} stream: GetRecords iterator age (ms)",
                left=[
                    stream.metric_get_records_iterator_age_milliseconds(
                        statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    )
                ],
                width=12,
            ),
        ]

    def _writes_widget(self, consumers: Sequence[Function], resources: Resources) -> cloudwatch.IWidget:
        written = sorted(
            {
                access.table
                for function in consumers
                for access in function.access
                if isinstance(access, TableAccess) and WRITE_ACTIONS.intersection(access.actions)
            }
        )
        return cloudwatch.GraphWidget(
            title="Read-model writes (consumed WCU)",
            left=[
                resources.tables[table].metric_consumed_write_capacity_units(
                    statistic=cloudwatch.Stats.SUM, period=PERIOD, label=table
                )
                for table in written
            ],
            width=12,
        )

    def _notifications_widget(self, topology: Topology, resources: Resources) -> cloudwatch.IWidget:
        published = sorted(
            {
                access.topic
                for function in topology.functions
                for access in function.access
                if isinstance(access, TopicAccess)
            }
        )
        return cloudwatch.GraphWidget(
            title="Notifications published",
            left=[
                resources.topics[topic].metric_number_of_messages_published(
                    statistic=cloudwatch.Stats.SUM, period=PERIOD, label=topic
                )
                for topic in published
            ],
            width=12,
        )


def _overview(topology: Topology) -> str:
    """Markdown: which consumers read which source, from the topology."""
    sources = dict.fromkeys((s.kind, s.source) for f in topology.functions for s in f.event_sources)
    lines = ["# Event pipeline (docs/pipeline.md)"]
    for kind, source in sources:
        readers = ", ".join(f.id for f, _ in topology.consumers_of(kind, source))
        where = (
            f"DynamoDB stream of table `{source}`"
            if kind == "dynamodb"
            else f"Kinesis `{topology.stream(source).name}`"
        )
        lines.append(f"- {where} -> {readers}")
    return "\n".join(lines)


def _source_label(topology: Topology, mapping: StreamMapping) -> str:
    if mapping.source.kind == "dynamodb":
        return f"the DynamoDB stream of table {mapping.source.source}"
    return f"the Kinesis stream {topology.stream(mapping.source.source).name}"
