"""Least-privilege IAM statements from the topology: each function's access and the streams its mappings read.

- TableAccess: only the listed DynamoDB actions, only on the table's ARN and/or on its named local and global indexes
  as the access says, plus the KMS operations DynamoDB performs with the caller's credentials on the table key.
- StreamAccess: only the listed Kinesis actions on that stream's ARN, plus kms:GenerateDataKey (producers) or
  kms:Decrypt (readers) on the stream key.
- TopicAccess: only the listed SNS actions on that topic's ARN, plus what SNS needs of the topic key to publish.
- EventSource: what Lambda's poller calls with the function's role to read the source (a table's DynamoDB stream:
  DescribeStream, GetRecords, GetShardIterator on its stream ARN only, and dynamodb:ListStreams in a statement of its
  own on '*', the one resource that action accepts; a Kinesis stream: its ARN only), the read half of the source's key,
  and sqs:SendMessage on the mapping's on-failure queue (see `failure_destination_statement`).

Every KMS statement names its key and holds only through the service that uses it (kms:ViaService). That includes the
table key for a DynamoDB stream's readers: DynamoDB Streams decrypts stream records with the table's key, through
DynamoDB, on behalf of the caller (see "Stream reads and the table key" below). Deliberately not
`Table.grant_read_data`, `Stream.grant_read` and friends: those add Scan, BatchGetItem, SubscribeToShard,
DescribeStreamConsumer and wildcard KMS actions nobody asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from infra.naming import pascal
from infra.topology import EventSource, Function, StreamAccess, TableAccess, TopicAccess, Topology

# Actions that change items. TransactWriteItems is not an IAM action: each item of a transaction is authorized as
# the PutItem/UpdateItem/DeleteItem/ConditionCheckItem it contains.
WRITE_ACTIONS: Final = frozenset(
    {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
)
# DynamoDB decrypts the table key with the caller's credentials on every access; writers also encrypt.
KMS_READ_ACTIONS: Final = ("kms:Decrypt", "kms:DescribeKey")
KMS_WRITE_ACTIONS: Final = (*KMS_READ_ACTIONS, "kms:Encrypt", "kms:GenerateDataKey")
# What Lambda reads a table's stream with for an event source mapping (the DynamoDB Developer Guide's policy for a
# stream-processing function), on that stream's ARN only: nothing on the table itself.
DYNAMODB_STREAM_READ: Final = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
# The fourth action of that policy. It lists a table's streams, so it has no resource-level permissions (the Service
# Authorization Reference gives it no resource type): granted on '*' in a statement of its own, so that the three
# reads above stay on the stream ARN. cdk-nag's AwsSolutions-IAM5 finding for it is acknowledged in infra/functions.py.
DYNAMODB_LIST_STREAMS: Final = ("dynamodb:ListStreams",)
LIST_STREAMS_SID: Final = "DynamoDBListStreams"
# Stream reads and the table key: the readers of a table's stream get kms:Decrypt and kms:DescribeKey on the table
# key with the same kms:ViaService = dynamodb.<region>.amazonaws.com condition as the table's readers, and that works:
# - AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS"
#   (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html): encryption at rest "also protects
#   DynamoDB streams [...] Statements about tables in this topic apply to these objects, too"; DynamoDB decrypts the
#   table key by calling KMS on behalf of the principal who accesses the table (the CloudTrail Decrypt event shows that
#   principal, invokedBy dynamodb.amazonaws.com), and the AWS managed key aws/dynamodb, with which streams work,
#   allows its use only under kms:ViaService = dynamodb.<region>.amazonaws.com.
# - AWS KMS Developer Guide, "AWS KMS condition keys", kms:ViaService
#   (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service): Amazon
#   DynamoDB's ViaService name is dynamodb.AWS_region.amazonaws.com; DynamoDB Streams has no name of its own.
# - DynamoDB Developer Guide, "DynamoDB encryption at rest usage notes"
#   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html): "DynamoDB streams
#   are always encrypted with a table-level encryption key."
# Only a deployment can show it for certain (docs/deploy.md says how to check): the local runtime has no KMS keys.
# What Lambda reads a Kinesis stream with through a standard iterator (no enhanced fan-out: no SubscribeToShard).
KINESIS_STREAM_READ: Final = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
KINESIS_PUT_ACTIONS: Final = frozenset({"kinesis:PutRecord", "kinesis:PutRecords"})
# Kinesis encrypts each put with a data key generated under the stream key and decrypts each read with it.
KINESIS_KEY_WRITE: Final = ("kms:GenerateDataKey",)
KINESIS_KEY_READ: Final = ("kms:Decrypt",)
# SNS generates a data key to store a message encrypted and decrypts it to deliver it: a publisher needs both.
SNS_KEY_PUBLISH: Final = ("kms:Decrypt", "kms:GenerateDataKey")
# Lambda sends a mapping's failure record to its on-failure queue with the function's role: SendMessage, nothing else.
FAILURE_DESTINATION_ACTIONS: Final = ("sqs:SendMessage",)

KeyService = Literal["dynamodb", "kinesis", "sns"]
_KEY_SIDS: Final[Mapping[KeyService, str]] = {"dynamodb": "TableKey", "kinesis": "StreamKey", "sns": "TopicKey"}


@dataclass(frozen=True)
class Resources:
    """The deployed resources the topology's ids stand for."""

    tables: Mapping[str, dynamodb.ITable]
    streams: Mapping[str, kinesis.IStream] = field(default_factory=lambda: MappingProxyType({}))
    topics: Mapping[str, sns.ITopic] = field(default_factory=lambda: MappingProxyType({}))


class _Policy:
    """Statements in the order they are added; KMS actions gathered per (service, key) into one statement each."""

    def __init__(self) -> None:
        self.statements: list[iam.PolicyStatement] = []
        self._keys: dict[tuple[KeyService, str], set[str]] = {}

    def allow(self, sid: str, actions: Iterable[str], resources: list[str]) -> None:
        if any(statement.sid == sid for statement in self.statements):
            return  # e.g. ListStreams, needed once whatever the number of DynamoDB streams read
        self.statements.append(iam.PolicyStatement(sid=sid, actions=sorted(set(actions)), resources=resources))

    def key(self, service: KeyService, key: kms.IKey | None, actions: Iterable[str]) -> None:
        if key is not None:  # None: an AWS-owned or AWS-managed key, which needs no IAM permission
            self._keys.setdefault((service, key.key_arn), set()).update(actions)

    def build(self) -> list[iam.PolicyStatement]:
        numbers: dict[KeyService, int] = {}
        key_statements = []
        for (service, key_arn), actions in self._keys.items():
            numbers[service] = numbers.get(service, 0) + 1
            sid = _KEY_SIDS[service] if numbers[service] == 1 else f"{_KEY_SIDS[service]}{numbers[service]}"
            key_statements.append(
                iam.PolicyStatement(
                    sid=sid,
                    actions=sorted(actions),
                    resources=[key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"{service}.{Aws.REGION}.amazonaws.com"}},
                )
            )
        return [*self.statements, *key_statements]


def function_statements(function: Function, topology: Topology, resources: Resources) -> list[iam.PolicyStatement]:
    """The function's topology access and the reads its event sources need, each on its own resources only."""
    policy = _Policy()
    for access in function.access:
        match access:
            case TableAccess():
                _table_access(policy, access, topology, resources)
            case StreamAccess():
                _stream_access(policy, access, resources)
            case TopicAccess():
                _topic_access(policy, access, resources)
    for event_source in function.event_sources:
        _source_read(policy, event_source, resources)
    return policy.build()


def failure_destination_statement(sid: str, queue_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(sid=sid, actions=list(FAILURE_DESTINATION_ACTIONS), resources=[queue_arn])


def _table_access(policy: _Policy, access: TableAccess, topology: Topology, resources: Resources) -> None:
    spec, table = topology.table(access.table), resources.tables[access.table]
    arns = [] if access.indexes_only else [table.table_arn]
    if access.indexes:
        indexes = [index.name for index in spec.local_indexes] + [index.name for index in spec.global_indexes]
        arns += [f"{table.table_arn}/index/{name}" for name in indexes]
    policy.allow(f"{pascal(spec.id)}Table", access.actions, arns)
    writes = WRITE_ACTIONS.intersection(access.actions)
    policy.key("dynamodb", table.encryption_key, KMS_WRITE_ACTIONS if writes else KMS_READ_ACTIONS)


def _stream_access(policy: _Policy, access: StreamAccess, resources: Resources) -> None:
    stream = resources.streams[access.stream]
    policy.allow(f"{pascal(access.stream)}Stream", access.actions, [stream.stream_arn])
    if KINESIS_PUT_ACTIONS.intersection(access.actions):
        policy.key("kinesis", stream.encryption_key, KINESIS_KEY_WRITE)
    if "kinesis:GetRecords" in access.actions:
        policy.key("kinesis", stream.encryption_key, KINESIS_KEY_READ)


def _topic_access(policy: _Policy, access: TopicAccess, resources: Resources) -> None:
    topic = resources.topics[access.topic]
    policy.allow(f"{pascal(access.topic)}Topic", access.actions, [topic.topic_arn])
    if "sns:Publish" in access.actions:
        policy.key("sns", topic.master_key, SNS_KEY_PUBLISH)


def _source_read(policy: _Policy, source: EventSource, resources: Resources) -> None:
    if source.kind == "dynamodb":
        table = resources.tables[source.source]
        if table.table_stream_arn is None:
            raise ValueError(f"table {source.source} has no stream to read")
        policy.allow(f"{pascal(source.source)}TableStreamRead", DYNAMODB_STREAM_READ, [table.table_stream_arn])
        policy.allow(LIST_STREAMS_SID, DYNAMODB_LIST_STREAMS, ["*"])
        policy.key("dynamodb", table.encryption_key, KMS_READ_ACTIONS)  # via DynamoDB: "Stream reads and the table key"
    else:
        stream = resources.streams[source.source]
        policy.allow(f"{pascal(source.source)}StreamRead", KINESIS_STREAM_READ, [stream.stream_arn])
        policy.key("kinesis", stream.encryption_key, KINESIS_KEY_READ)
