"""The ledger stack: tables, streams and topics, functions, the event pipeline and its monitoring, and the HTTP API,
all built from the one topology description."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.access import Resources
from infra.api import LedgerApi
from infra.event_store import EventStore
from infra.functions import LedgerFunctions
from infra.messaging import Messaging
from infra.monitoring import PipelineMonitoring
from infra.naming import pascal
from infra.pipeline import Pipeline
from infra.topology import TOPOLOGY, Topology


class LedgerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology = TOPOLOGY, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.event_store = EventStore(self, "EventStore", topology=topology)
        self.messaging = Messaging(self, "Messaging", topology=topology)
        resources = Resources(
            tables=self.event_store.tables, streams=self.messaging.streams, topics=self.messaging.topics
        )
        self.functions = LedgerFunctions(self, "Functions", topology=topology, resources=resources)
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            topology=topology,
            functions=self.functions.functions,
            roles=self.functions.roles,
            resources=resources,
        )
        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            topology=topology,
            functions=self.functions.functions,
            mappings=self.pipeline.mappings,
            resources=resources,
        )
        self.api = LedgerApi(self, "Api", topology=topology, functions=self.functions.functions)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API (requests need SigV4)")
        for table in topology.tables:
            CfnOutput(
                self,
                f"{pascal(table.id)}TableName",
                value=self.event_store.tables[table.id].table_name,
                description=f"{table.description} (the functions read it from {table.env_var})",
            )
        for stream in topology.streams:
            CfnOutput(
                self,
                f"{pascal(stream.id)}StreamName",
                value=self.messaging.streams[stream.id].stream_name,
                description=f"{stream.description} (the functions read it from {stream.env_var})",
            )
        for topic in topology.topics:
            CfnOutput(
                self,
                f"{pascal(topic.id)}TopicArn",
                value=self.messaging.topics[topic.id].topic_arn,
                description=f"{topic.description} (the functions read it from {topic.env_var})",
            )
        for mapping in self.pipeline.mappings:
            CfnOutput(
                self,
                f"{pascal(mapping.function.id)}{pascal(mapping.source.source)}FailuresQueueUrl",
                value=mapping.failures.queue_url,
                description=f"What {mapping.function.id} gave up on reading {mapping.source.kind} "
                f"{mapping.source.source} (shard and sequence numbers)",
            )
        CfnOutput(
            self,
            "PipelineDashboardName",
            value=self.monitoring.dashboard.dashboard_name,
            description="CloudWatch dashboard of the event pipeline",
        )
