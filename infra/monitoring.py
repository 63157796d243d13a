"""Alarms and the CloudWatch dashboard of the event pipeline.

Alarms (no actions: they show in the console and on the dashboard; wire an SNS topic to them to page someone):
- per consumer function: its `IteratorAge` (how old the newest record it handled was when Lambda read it: the
  consumer's lag) and its `Errors` (whole invocations that failed: crashes, timeouts, a batch whose every record
  failed; a record reported as a batch item failure is retried without counting here);
- per mapping: its on-failure queue holds a message (Lambda gave up on a batch), and its heartbeat stopped arriving
  (infra/heartbeat.py: no beat noted in `missed_beats` periods, missing data counted as breaching);
- per Kinesis stream: `GetRecords.IteratorAgeMilliseconds` (the slowest reader of the stream), missing data counted
  as breaching: Lambda's pollers read every shard every second, so a minute without any GetRecords means nobody can;
- per DynamoDB stream (the events table's): the largest `IteratorAge` of its readers;
- the archive's (infra/archive.py), shown here with the others.

Why the others treat missing data as fine: a consumer's `IteratorAge` and `Errors` exist only for invocations, an
on-failure queue's depth only while SQS deems the queue active; an idle consumer or an empty queue publishes nothing.
A consumer that can never poll publishes nothing either: that is what its heartbeat alarm is for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.access import WRITE_ACTIONS, Resources
from infra.archive import EventArchive
from infra.heartbeat import heartbeat_metric
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
        archive: EventArchive | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._prefix = stack.stack_name
        self._topology = topology
        self._functions = functions
        self._resources = resources
        consumers = [function for function in topology.functions if function.event_sources]
        self.iterator_age_alarms = {f.id: self._iterator_age_alarm(f) for f in consumers}
        self.error_alarms = {f.id: self._error_alarm(f) for f in consumers}
        self.failure_alarms = {m.name: self._failure_alarm(m) for m in mappings}
        self.heartbeat_alarms = {m.name: self._heartbeat_alarm(m) for m in mappings} if topology.heartbeat else {}
        self.stream_alarms = {
            stream.id: self._stream_alarm(stream.id, stream.name, resources) for stream in topology.streams
        }
        table_streams = dict.fromkeys(m.source.source for m in mappings if m.source.kind == "dynamodb")
        self.table_stream_alarms = {table: self._table_stream_alarm(table) for table in table_streams}
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            # Dashboards are global to the account: the region keeps two regions' stacks of one name apart.
            dashboard_name=f"{self._prefix}-{stack.region}-pipeline",
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
                            *self.heartbeat_alarms.values(),
                            *self.stream_alarms.values(),
                            *self.table_stream_alarms.values(),
                            *(archive.alarms if archive is not None else ()),
                        ],
                        width=24,
                        height=6,
                    )
                ],
                *([[self._heartbeats_widget(mappings)]] if topology.heartbeat else []),
                *[self._consumer_row(f, [m for m in mappings if m.function == f]) for f in consumers],
                *[self._stream_row(stream.id, resources) for stream in topology.streams],
                [self._writes_widget(consumers, resources), self._notifications_widget(topology, resources)],
                *([[self._archive_widget(archive)]] if archive is not None else []),
            ],
        )

    def _archive_widget(self, archive: EventArchive) -> cloudwatch.IWidget:
        return cloudwatch.GraphWidget(
            title="Archive: age of the oldest record not yet in S3, per delivery (s)",
            left=list(archive.freshness.values()),
            width=24,
        )

    def _iterator_age(self, function: Function) -> cloudwatch.Metric:
        return self._functions[function.id].metric("IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD)

    def _iterator_age_alarm(self, function: Function) -> cloudwatch.Alarm:
        return self._age_alarm(
            self._iterator_age(function),
            f"{function.id}-iterator-age",
            f"{function.id}-iterator-age",
            f"The {function.id} consumer is more than {ITERATOR_AGE_THRESHOLD.to_minutes()} minutes behind its "
            "stream: look at its errors, its logs and its failure queue (docs/pipeline.md).",
            # Lambda reports IteratorAge only for the batches it invokes with: silence is an idle stream.
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
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

    def _heartbeat_alarm(self, mapping: StreamMapping) -> cloudwatch.Alarm:
        heartbeat = self._topology.heartbeat
        assert heartbeat is not None
        minutes = heartbeat.rate_minutes * heartbeat.missed_beats
        return self._heartbeat(mapping).create_alarm(
            self,
            f"{mapping.name}-heartbeat",
            alarm_name=f"{self._prefix}-{mapping.name}-heartbeat",
            alarm_description=f"{mapping.function.id} noted no heartbeat from {_source_label(self._topology, mapping)} "
            f"in {minutes} minutes: its mapping cannot read (a denied GetRecords or key Decrypt, a disabled mapping: "
            "see the mapping's LastProcessingResult), the function fails, or the heartbeat's path upstream is broken "
            "(look at the heartbeat alarms upstream of it). docs/pipeline.md, Heartbeat.",
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=heartbeat.missed_beats,
            datapoints_to_alarm=heartbeat.missed_beats,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )

    def _heartbeat(self, mapping: StreamMapping) -> cloudwatch.Metric:
        return heartbeat_metric(self._topology, self._resources, mapping.function, mapping.source)

    def _table_stream_alarm(self, table: str) -> cloudwatch.Alarm:
        readers = [function for function, _ in self._topology.consumers_of("dynamodb", table)]
        ages = {f"age{index}": self._iterator_age(function) for index, function in enumerate(readers)}
        age = cloudwatch.MathExpression(
            expression=f"MAX([{', '.join(ages)}])",
            using_metrics=ages,
            period=PERIOD,
            label=f"{table} stream: oldest record its readers handled (ms)",
        )
        return self._age_alarm(
            age,
            f"{table}-table-stream-iterator-age",
            f"{table}-stream-iterator-age",
            f"A reader of the {table} table's DynamoDB stream ({', '.join(f.id for f in readers)}) is more than "
            f"{ITERATOR_AGE_THRESHOLD.to_minutes()} minutes behind: the stream keeps records 24 hours. A reader that "
            "cannot read at all shows in its heartbeat alarm.",
            # Lambda reports a table stream's age only when a batch came: silence is an idle table, not a fault.
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _stream_alarm(self, stream_id: str, name: str, resources: Resources) -> cloudwatch.Alarm:
        age = resources.streams[stream_id].metric_get_records_iterator_age_milliseconds(
            statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
        )
        return self._age_alarm(
            age,
            f"{stream_id}-stream-iterator-age",
            f"{name}-iterator-age",
            f"A reader of the {name} Kinesis stream is more than {ITERATOR_AGE_THRESHOLD.to_minutes()} minutes "
            f"behind, or no reader could read it at all (no GetRecords for {ITERATOR_AGE_MINUTES} minutes, when "
            "Lambda polls every shard every second); records expire after the stream's retention.",
            missing=cloudwatch.TreatMissingData.BREACHING,
        )

    def _age_alarm(
        self,
        age: cloudwatch.IMetric,
        construct_id: str,
        name: str,
        description: str,
        *,
        missing: cloudwatch.TreatMissingData,
    ) -> cloudwatch.Alarm:
        """Fires when the oldest record handled stays older than ITERATOR_AGE_THRESHOLD for ITERATOR_AGE_MINUTES."""
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=age,
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            threshold=ITERATOR_AGE_THRESHOLD.to_milliseconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=ITERATOR_AGE_MINUTES,
            datapoints_to_alarm=ITERATOR_AGE_MINUTES,
            treat_missing_data=missing,
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

    def _heartbeats_widget(self, mappings: Sequence[StreamMapping]) -> cloudwatch.IWidget:
        return cloudwatch.GraphWidget(
            title="Heartbeats noted per mapping (each should see one per period)",
            left=[self._heartbeat(m).with_(label=f"{m.function.id} <- {m.source.source}") for m in mappings],
            left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="expected")],
            width=24,
        )

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
