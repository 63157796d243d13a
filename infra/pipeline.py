"""The event pipeline's wiring: one Lambda event source mapping per topology EventSource, exactly as the topology
sets it, each with its own encrypted SQS on-failure destination.

What a mapping gives up on (retries exhausted, or records older than its maximum age) goes to its queue as a JSON
failure record naming the shard and the sequence-number range of the batch; the records themselves stay in the
source stream until its retention ends, and the event store always has the events (`ledger.rebuild` replays them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import jsii
from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.access import Resources, failure_destination_statement
from infra.naming import pascal
from infra.topology import EventSource, Function, Topology

# SQS's longest retention: a failure record waits two weeks for someone to look at it (the alarm fires at once).
FAILURE_RETENTION: Final = Duration.days(14)
_STARTING_POSITIONS: Final[Mapping[str, lambda_.StartingPosition]] = {
    "TRIM_HORIZON": lambda_.StartingPosition.TRIM_HORIZON,
    "LATEST": lambda_.StartingPosition.LATEST,
}


@dataclass(frozen=True)
class StreamMapping:
    """One topology EventSource as deployed: the mapping and the queue it sends what it gives up on to."""

    function: Function
    source: EventSource
    mapping: lambda_.EventSourceMapping
    failures: sqs.Queue

    @property
    def name(self) -> str:
        """E.g. 'projector-events': unique in the stack, used in construct ids and alarm names."""
        return f"{self.function.id}-{self.source.source}"


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        functions: Mapping[str, lambda_.IFunction],
        roles: Mapping[str, iam.IRole],
        resources: Resources,
    ) -> None:
        super().__init__(scope, construct_id)
        self._resources = resources
        self.mappings: tuple[StreamMapping, ...] = tuple(
            self._mapping(function, source, functions[function.id], roles[function.id])
            for function in topology.functions
            for source in function.event_sources
        )

    def _mapping(
        self, spec: Function, source: EventSource, function: lambda_.IFunction, role: iam.IRole
    ) -> StreamMapping:
        scope = Construct(self, f"{spec.id}-{source.kind}-{source.source}")
        failures = sqs.Queue(
            scope,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILURE_RETENTION,
        )
        Validations.of(failures.node.default_child or failures).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter destination (OnFailure) of an event source mapping; "
                "cdk-nag only recognises queues named in another queue's RedrivePolicy or a function's "
                "DeadLetterConfig. Nothing consumes it automatically, so it needs no DLQ of its own.",
            )
        )
        role.add_to_principal_policy(
            failure_destination_statement(f"{pascal(source.source)}Failures", failures.queue_arn)
        )
        mapping = lambda_.EventSourceMapping(
            scope,
            "Mapping",
            target=function,
            event_source_arn=self._source_arn(source),
            starting_position=_STARTING_POSITIONS[source.starting_position],
            batch_size=source.batch_size,
            max_batching_window=Duration.seconds(source.max_batching_window_seconds),
            retry_attempts=source.retry_attempts,
            max_record_age=Duration.seconds(source.max_record_age_seconds),
            bisect_batch_on_error=source.bisect_on_error,
            parallelization_factor=source.parallelization_factor,
            report_batch_item_failures=True,
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in source.filters] or None,
            on_failure=_FailureQueue(failures),
        )
        return StreamMapping(function=spec, source=source, mapping=mapping, failures=failures)

    def _source_arn(self, source: EventSource) -> str:
        if source.kind == "kinesis":
            return self._resources.streams[source.source].stream_arn
        stream_arn = self._resources.tables[source.source].table_stream_arn
        if stream_arn is None:
            raise ValueError(f"table {source.source} has no stream to map")
        return stream_arn


@jsii.implements(lambda_.IEventSourceDlq)
class _FailureQueue:
    """An SQS on-failure destination that grants nothing itself (unlike `SqsDlq`, which adds GetQueueAttributes and
    GetQueueUrl): the function's role gets sqs:SendMessage on the queue from `failure_destination_statement`."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)
