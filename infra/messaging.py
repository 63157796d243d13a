"""The topology's Kinesis streams and SNS topics, each kind encrypted with its own customer-managed KMS key.

Customer-managed keys rather than the AWS-managed `alias/aws/kinesis` / `alias/aws/sns`, like the tables: the records
are the ledger's transactions and fraud alerts, and with an AWS-managed key any principal of the account allowed to
call kinesis:GetRecords on a stream could read them, while here only the roles this stack grants kms:Decrypt on the
stream key (through Kinesis only: kms:ViaService) can. The keys rotate yearly, their use shows in CloudTrail per key,
and a topic subscriber or alarm action that needs the topic key later gets a key-policy statement on the topic key
without widening the streams' key. The cost is one key each (about 1 USD a month) plus KMS requests, which Kinesis
keeps to about one per data key every few minutes per producer and consumer (data keys are cached), not one per
record. cdk-nag's AwsSolutions-KDS3 warns about exactly this cost; it is acknowledged on each stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.naming import pascal
from infra.topology import KinesisStream, Topic, Topology

# Streams and in-flight notifications are transport: every record is derived from the event store (the publisher
# puts each stored event, fraud derives alerts from them) and can be replayed from it, so neither the streams nor
# their keys outlive the stack. KMS still waits this long before deleting a key, so a mistaken destroy can be undone.
KEY_PENDING_WINDOW: Final = Duration.days(30)


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology) -> None:
        super().__init__(scope, construct_id)
        self.stream_key = (
            self._key("StreamKey", "Encrypts the ledger's Kinesis streams (transactions, alerts)")
            if topology.streams
            else None
        )
        self.topic_key = (
            self._key("TopicKey", "Encrypts the ledger's SNS topics (fraud notifications)") if topology.topics else None
        )
        self.streams: Mapping[str, kinesis.Stream] = MappingProxyType(
            {stream.id: self._stream(stream) for stream in topology.streams}
        )
        self.topics: Mapping[str, sns.Topic] = MappingProxyType(
            {topic.id: self._topic(topic) for topic in topology.topics}
        )

    def _key(self, construct_id: str, description: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            description=description,
            enable_key_rotation=True,
            pending_window=KEY_PENDING_WINDOW,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _stream(self, spec: KinesisStream) -> kinesis.Stream:
        stream = kinesis.Stream(
            self,
            f"{pascal(spec.id)}Stream",
            stream_name=spec.name,
            stream_mode=kinesis.StreamMode.PROVISIONED,
            shard_count=spec.shards,
            retention_period=Duration.hours(spec.retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.stream_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        Validations.of(stream.node.default_child or stream).acknowledge(
            Acknowledgment(
                id="AwsSolutions-KDS3",
                reason="A customer-managed key on purpose (see infra/messaging.py): with alias/aws/kinesis any "
                "principal of the account allowed kinesis:GetRecords could read the ledger's transactions and "
                "alerts; here only the consumers granted kms:Decrypt via Kinesis can. Data-key caching keeps the "
                "KMS request cost per producer and consumer, not per record.",
            )
        )
        return stream

    def _topic(self, spec: Topic) -> sns.Topic:
        return sns.Topic(
            self,
            f"{pascal(spec.id)}Topic",
            topic_name=spec.name,
            display_name=spec.name,
            master_key=self.topic_key,
            enforce_ssl=True,  # a topic policy denying every request made without TLS (aws:SecureTransport)
        )
