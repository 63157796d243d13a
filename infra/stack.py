"""The ledger stack: tables, streams and topics, functions, the event pipeline and its monitoring, the HTTP API,
all built from the one topology description, and the sales dashboard (page, sign-in, its own API)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.access import Resources
from infra.api import LedgerApi
from infra.archive import EventArchive
from infra.dashboard import Dashboard
from infra.functions import LedgerFunctions
from infra.heartbeat import HeartbeatSchedule
from infra.messaging import Messaging
from infra.monitoring import PipelineMonitoring
from infra.naming import pascal
from infra.pipeline import Pipeline
from infra.tables import Tables
from infra.topology import TOPOLOGY, KinesisStream, Table, Topic, Topology


class LedgerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology = TOPOLOGY, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The construct id stays "EventStore" (its first name): it is part of every table's logical id, and a new
        # logical id would make CloudFormation create new tables and orphan the retained ones with their data.
        self.tables = Tables(self, "EventStore", topology=topology)
        self.messaging = Messaging(self, "Messaging", topology=topology)
        resources = Resources(tables=self.tables.tables, streams=self.messaging.streams, topics=self.messaging.topics)
        self.functions = LedgerFunctions(self, "Functions", topology=topology, resources=resources)
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            topology=topology,
            functions=self.functions.functions,
            roles=self.functions.roles,
            resources=resources,
        )
        if topology.heartbeat is not None:
            self.heartbeat = HeartbeatSchedule(
                self, "Heartbeat", heartbeat=topology.heartbeat, functions=self.functions.functions
            )
        self.archive: EventArchive | None = None
        if topology.archive is not None:
            self.archive = EventArchive(self, "Archive", topology=topology, streams=self.messaging.streams)
            for name, value, description in (
                (
                    "ArchiveBucketName",
                    self.archive.bucket.bucket_name,
                    "The event archive (the archive tools read "
                    f"it from {topology.archive.bucket_env_var}; docs/archive.md)",
                ),
                ("ArchiveDatabase", self.archive.database_name, "The Glue database of the archive's Athena table"),
                ("ArchiveWorkGroup", self.archive.workgroup.ref, "The Athena workgroup to query the archive in"),
            ):
                CfnOutput(self, name, value=value, description=description)
        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            topology=topology,
            functions=self.functions.functions,
            mappings=self.pipeline.mappings,
            resources=resources,
            archive=self.archive,
        )
        self.api = LedgerApi(self, "Api", topology=topology, functions=self.functions.functions)
        self.dashboard = Dashboard(self, "Dashboard", topology=topology, functions=self.functions.functions)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API (requests need SigV4)")
        dashboard = self.dashboard
        for name, value, description in (
            ("DashboardUrl", dashboard.url, "The sales dashboard page (CloudFront); people sign in with the user pool"),
            ("DashboardApiUrl", dashboard.api.url, "Base URL of the dashboard API (bearer tokens of the user pool)"),
            ("UserPoolId", dashboard.user_pool.user_pool_id, "The dashboard's people: admins invite them here"),
            ("UserPoolClientId", dashboard.client.user_pool_client_id, "The dashboard page's app client"),
            ("SignInDomain", dashboard.sign_in_url, "The user pool's hosted UI, where people sign in"),
        ):
            CfnOutput(self, name, value=value, description=description)
        named: tuple[tuple[Table | KinesisStream | Topic, str, str], ...] = (
            *((t, "TableName", self.tables.tables[t.id].table_name) for t in topology.tables),
            *((s, "StreamName", self.messaging.streams[s.id].stream_name) for s in topology.streams),
            *((t, "TopicArn", self.messaging.topics[t.id].topic_arn) for t in topology.topics),
        )
        for spec, suffix, value in named:
            CfnOutput(
                self,
                f"{pascal(spec.id)}{suffix}",
                value=value,
                description=f"{spec.description} (the functions read it from {spec.env_var})",
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
