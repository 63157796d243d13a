"""The event archive (the topology's `Archive`, docs/archive.md): every public event message, kept in S3 past the
streams' day of retention, queryable by Athena the day it is deployed.

- An S3 bucket, encrypted with a customer-managed key of its own (an S3 Bucket Key, so KMS sees one request per
  object rather than per read), public access blocked, TLS only, versioned (an overwrite or delete of history can be
  undone for 30 days), server access logs to a bucket of their own, retained on update or delete like the tables,
  and lifecycle rules: Standard-IA, then Glacier Instant Retrieval (both read directly by Athena and the tools),
  Firehose's error output and Athena's results expiring.
- One Amazon Data Firehose delivery stream per published Kinesis stream, reading it (KinesisStreamAsSource) and
  writing each message unchanged, newline-delimited, gzip, under `events/aggregate_type=<type>/date=<day>/`: dynamic
  partitioning with a JQ query on the message's own fields. Its role may read that stream (and decrypt it through
  Kinesis) and write that bucket's prefixes (and encrypt through S3), nothing else.
- A Glue database and table over the archive with partition projection (the aggregate types as an enum, the days as
  a date range up to NOW), so that `SELECT` works without crawlers or `MSCK REPAIR`, and an Athena workgroup whose
  results are encrypted with the archive's key.
- Alarms per delivery stream: data freshness (the oldest record not yet in S3), missing data counted as breaching
  since the heartbeat crosses every stream every few minutes; and partitions dropped over Firehose's limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, cast

from aws_cdk import Acknowledgment, CfnElement, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.naming import pascal
from infra.topology import Archive, KinesisStream, Topology

# The message's fields as Athena columns (docs/schemas/event-message.schema.json); aggregate_type is a partition
# column instead. `data` and `metadata` are JSON objects whose fields vary by event type: maps of strings, read with
# e.g. CAST(data['amount'] AS bigint).
COLUMNS: Final = (
    ("event_id", "string"),
    ("aggregate_id", "string"),
    ("version", "bigint"),
    ("type", "string"),
    ("schema_version", "int"),
    ("occurred_at", "string"),
    ("data", "map<string,string>"),
    ("metadata", "map<string,string>"),
)
FIRST_DAY: Final = "2026-01-01"  # the projected dates' lower bound: before the ledger's first event
PARTITION_QUERY: Final = "{aggregate_type: .aggregate_type, date: .occurred_at[0:10]}"
FRESHNESS_ALARM: Final = Duration.minutes(15)  # the oldest record not in S3 yet: 15 buffering intervals
RESULTS_PREFIX: Final = "athena-results/"
RESULTS_DAYS: Final = 7
ERRORS_DAYS: Final = 90
NONCURRENT_DAYS: Final = 30
PERIOD: Final = Duration.minutes(5)


class EventArchive(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        streams: Mapping[str, kinesis.IStream],
    ) -> None:
        super().__init__(scope, construct_id)
        if topology.archive is None:
            raise ValueError("the topology declares no archive")
        self.spec: Archive = topology.archive
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the ledger's event archive (S3) and its Athena query results",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.bucket = self._bucket()
        self.log_group = logs.LogGroup(self, "DeliveryLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.deliveries: Mapping[str, firehose.CfnDeliveryStream] = MappingProxyType(
            {stream.id: self._delivery(stream, streams[stream.id]) for stream in topology.published_streams}
        )
        self.database_name = _glue_name(f"{Stack.of(self).stack_name}_archive")
        self.table_name = self.spec.table
        self._catalog(_aggregate_types(topology))
        self.workgroup = self._workgroup()
        self.freshness: Mapping[str, cloudwatch.Metric] = MappingProxyType(
            {stream.id: self._metric(stream, "DeliveryToS3.DataFreshness") for stream in topology.published_streams}
        )
        self.alarms = [alarm for stream in topology.published_streams for alarm in self._alarms(stream)]

    # --- storage -------------------------------------------------------------------------------------------------

    def _bucket(self) -> s3.Bucket:
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # SSE-S3: what S3 server access logging supports
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # S3 delivers server access logs with an ACL grant (log-delivery-write): ACLs on, the owner owns them all
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        return s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="archive-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="history-to-cheaper-storage",
                    prefix=self.spec.prefix,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(self.spec.infrequent_access_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(self.spec.glacier_days),
                        ),
                    ],
                ),
                s3.LifecycleRule(id="undo-window", noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS)),
                s3.LifecycleRule(id="incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)),
                s3.LifecycleRule(
                    id="delivery-errors", prefix=self.spec.error_prefix, expiration=Duration.days(ERRORS_DAYS)
                ),
                s3.LifecycleRule(id="query-results", prefix=RESULTS_PREFIX, expiration=Duration.days(RESULTS_DAYS)),
            ],
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )

    # --- delivery ------------------------------------------------------------------------------------------------

    def _delivery(self, spec: KinesisStream, stream: kinesis.IStream) -> firehose.CfnDeliveryStream:
        scope = Construct(self, pascal(spec.id))
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description=f"Firehose: reads the {spec.name} stream, writes the event archive",
        )
        # Reading the source stream: what AWS's Firehose documentation lists for a Kinesis source, on that stream,
        # and Decrypt of its key through Kinesis only.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadStream",
                actions=[
                    "kinesis:DescribeStream",
                    "kinesis:GetShardIterator",
                    "kinesis:GetRecords",
                    "kinesis:ListShards",
                ],
                resources=[stream.stream_arn],
            )
        )
        if stream.encryption_key is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="DecryptStream",
                    actions=["kms:Decrypt"],
                    resources=[stream.encryption_key.key_arn],
                    # the condition the functions' stream reads carry (infra/access.py, docs/pipeline.md: its source)
                    conditions={"StringEquals": {"kms:ViaService": f"kinesis.{Stack.of(self).region}.amazonaws.com"}},
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteArchive",
                actions=["s3:AbortMultipartUpload", "s3:PutObject"],
                resources=[
                    self.bucket.arn_for_objects(f"{self.spec.prefix}*"),
                    self.bucket.arn_for_objects(f"{self.spec.error_prefix}*"),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="FindArchive",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptArchive",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}},
            )
        )
        log_stream = logs.LogStream(scope, "LogStream", log_group=self.log_group)
        self.log_group.grant_write(role)
        delivery = firehose.CfnDeliveryStream(
            scope,
            "Delivery",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=stream.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=f"{self.spec.prefix}aggregate_type=!{{partitionKeyFromQuery:aggregate_type}}/"
                "date=!{partitionKeyFromQuery:date}/",
                error_output_prefix=f"{self.spec.error_prefix}!{{firehose:error-output-type}}/"
                "!{timestamp:yyyy/MM/dd/HH}/",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=self.spec.buffer_seconds, size_in_m_bs=self.spec.buffer_mib
                ),
                compression_format="GZIP",
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        _processor(
                            "MetadataExtraction",
                            MetadataExtractionQuery=PARTITION_QUERY,
                            JsonParsingEngine="JQ-1.6",
                        ),
                        _processor("AppendDelimiterToRecord", Delimiter="\\n"),
                    ],
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True,
                    log_group_name=self.log_group.log_group_name,
                    log_stream_name=log_stream.log_stream_name,
                ),
            ),
        )
        # On the role construct: its policy exists before Firehose checks it can read the stream. cfn-lint W3005
        # flags the role half of it as already implied by Fn::GetAtt. Harmless.
        delivery.node.add_dependency(role)
        delivery.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        Validations.of(delivery).acknowledge(
            Acknowledgment(
                id="AwsSolutions-KDF1",
                reason="Server-side encryption of a delivery stream applies to Direct PUT sources only; this one "
                "reads a Kinesis stream that is encrypted with the stream key, and writes a bucket encrypted with "
                "the archive key: the records are encrypted at rest at every step.",
            )
        )
        bucket = Stack.of(self).get_logical_id(cast(CfnElement, self.bucket.node.default_child))
        for finding, reason in {
            f"Resource::<{bucket}.Arn>/{self.spec.prefix}*": "Firehose writes new objects under the archive's "
            "prefix, named as it chooses: the prefix is as narrow as the resource can be.",
            f"Resource::<{bucket}.Arn>/{self.spec.error_prefix}*": "Firehose's error output, under its own "
            "prefix, named as it chooses.",
        }.items():
            Validations.of(role).acknowledge(Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason))
        return delivery

    # --- query ---------------------------------------------------------------------------------------------------

    def _catalog(self, aggregate_types: list[str]) -> None:
        account = Stack.of(self).account
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="The ledger's event archive (docs/archive.md)"
            ),
        )
        location = f"s3://{self.bucket.bucket_name}/{self.spec.prefix}"
        table = glue.CfnTable(
            self,
            "Table",
            catalog_id=account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=self.table_name,
                description="Every event message, once per delivery: count DISTINCT event_id (docs/archive.md)",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.aggregate_type.type": "enum",
                    "projection.aggregate_type.values": ",".join(aggregate_types),
                    "projection.date.type": "date",
                    "projection.date.range": f"{FIRST_DAY},NOW",
                    "projection.date.format": "yyyy-MM-dd",
                    "projection.date.interval": "1",
                    "projection.date.interval.unit": "DAYS",
                    "storage.location.template": f"{location}aggregate_type=${{aggregate_type}}/date=${{date}}/",
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name="aggregate_type", type="string"),
                    glue.CfnTable.ColumnProperty(name="date", type="string"),
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "false"},
                    ),
                    columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in COLUMNS],
                ),
            ),
        )
        table.node.add_dependency(database)

    def _workgroup(self) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=_glue_name(f"{Stack.of(self).stack_name}-archive").replace("_", "-"),
            description="Queries over the ledger's event archive; results encrypted with the archive key",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=100 * 1024**3,  # 100 GB: a runaway query stops at about 0.5 USD
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn
                    ),
                ),
            ),
        )

    # --- alarms --------------------------------------------------------------------------------------------------

    def _metric(self, stream: KinesisStream, name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/Firehose",
            metric_name=name,
            dimensions_map={"DeliveryStreamName": self.deliveries[stream.id].ref},
            statistic=cloudwatch.Stats.MAXIMUM,
            period=PERIOD,
            label=f"{stream.name}: {name}",
        )

    def _alarms(self, stream: KinesisStream) -> list[cloudwatch.Alarm]:
        prefix = Stack.of(self).stack_name
        dropped = self._metric(stream, "PartitionCountExceeded")
        return [
            self.freshness[stream.id].create_alarm(
                self,
                f"{pascal(stream.id)}Freshness",
                alarm_name=f"{prefix}-archive-{stream.id}-freshness",
                alarm_description=f"The archive's delivery of {stream.name} holds a record older than "
                f"{FRESHNESS_ALARM.to_minutes()} minutes, or reported nothing (the heartbeat crosses every stream "
                "every few minutes, so silence means it cannot read the stream: its role, the stream key). "
                "docs/archive.md, Operating it.",
                threshold=FRESHNESS_ALARM.to_seconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            dropped.create_alarm(
                self,
                f"{pascal(stream.id)}Partitions",
                alarm_name=f"{prefix}-archive-{stream.id}-partitions",
                alarm_description=f"The archive's delivery of {stream.name} had more active partitions than "
                "Firehose allows (500): records went to the error prefix. docs/archive.md, Operating it.",
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]


def _processor(kind: str, **parameters: str) -> firehose.CfnDeliveryStream.ProcessorProperty:
    return firehose.CfnDeliveryStream.ProcessorProperty(
        type=kind,
        parameters=[
            firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=name, parameter_value=value)
            for name, value in parameters.items()
        ],
    )


def _aggregate_types(topology: Topology) -> list[str]:
    """Every aggregate type whose events the archive holds: the published streams' types and the heartbeat's."""
    types = {t for stream in topology.published_streams for t in stream.aggregate_types}
    if topology.heartbeat is not None:
        types.add(topology.heartbeat.aggregate_type)
    return sorted(types)


def _glue_name(name: str) -> str:
    """Glue and Athena names: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())
