"""The event archive's resources: the bucket, one Firehose delivery per published stream (partitioned as the local
runtime writes), the Glue table Athena reads with projected partitions, the workgroup, the alarms."""

from __future__ import annotations

import json
import re
from typing import Any, Final

import pytest

from infra.archive import COLUMNS, PARTITION_QUERY
from infra.topology import TOPOLOGY, Archive, KinesisStream
from tests.infra.template import Synthesized


def _declared() -> Archive:
    assert TOPOLOGY.archive is not None
    return TOPOLOGY.archive


ARCHIVE: Final = _declared()
STREAMS = pytest.mark.parametrize("stream", TOPOLOGY.published_streams, ids=lambda s: s.id)


def _one(synthesized: Synthesized, kind: str, prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(name, r) for name, r in synthesized.of_type(kind).items() if name.startswith(prefix)]
    return found


def _bucket(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return _one(synthesized, "AWS::S3::Bucket", "ArchiveBucket")


def _delivery(synthesized: Synthesized, stream: KinesisStream) -> dict[str, Any]:
    deliveries = synthesized.of_type("AWS::KinesisFirehose::DeliveryStream")
    (found,) = [
        dict(r["Properties"])
        for r in deliveries.values()
        if r["Properties"]["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
        == {"Fn::GetAtt": [synthesized.stream_id(stream), "Arn"]}
    ]
    return found


def test_the_bucket_is_encrypted_with_its_own_key_private_versioned_logged_and_retained(
    synthesized: Synthesized,
) -> None:
    name, bucket = _bucket(synthesized)
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert key.startswith("ArchiveKey")
    assert synthesized.resources[key]["Properties"]["EnableKeyRotation"] is True
    assert rule["BucketKeyEnabled"] is True
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("ArchiveAccessLogs")
    # history outlives the stack, but a failed first create removes what it made
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": name}
    )
    denies = [s for s in policy if s["Effect"] == "Deny"]
    assert {json_key for s in denies for json_key in s["Condition"]} >= {"Bool", "NumericLessThan"}


def test_history_moves_to_cheaper_storage_and_errors_and_results_expire(synthesized: Synthesized) -> None:
    rules = {r["Id"]: r for r in _bucket(synthesized)[1]["Properties"]["LifecycleConfiguration"]["Rules"]}
    history = rules["history-to-cheaper-storage"]
    assert history["Prefix"] == ARCHIVE.prefix
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in history["Transitions"]] == [
        ("STANDARD_IA", ARCHIVE.infrequent_access_days),
        ("GLACIER_IR", ARCHIVE.glacier_days),
    ]
    assert rules["delivery-errors"]["Prefix"] == ARCHIVE.error_prefix
    assert rules["delivery-errors"]["ExpirationInDays"] > 0
    assert rules["query-results"]["ExpirationInDays"] > 0
    assert rules["undo-window"]["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0


@STREAMS
def test_each_published_stream_is_delivered_partitioned_by_type_and_day_gzip_one_message_per_line(
    synthesized: Synthesized, stream: KinesisStream
) -> None:
    delivery = _delivery(synthesized, stream)
    destination = delivery["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == {"Fn::GetAtt": [_bucket(synthesized)[0], "Arn"]}
    assert destination["CompressionFormat"] == "GZIP"
    assert destination["BufferingHints"] == {
        "IntervalInSeconds": ARCHIVE.buffer_seconds,
        "SizeInMBs": ARCHIVE.buffer_mib,
    }
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    processors = {
        p["Type"]: {x["ParameterName"]: x["ParameterValue"] for x in p["Parameters"]}
        for p in destination["ProcessingConfiguration"]["Processors"]
    }
    assert processors["MetadataExtraction"]["MetadataExtractionQuery"] == PARTITION_QUERY
    assert processors["AppendDelimiterToRecord"]["Delimiter"] == "\\n"
    # the prefix, its partition keys filled in, is where the local runtime writes (local/archive.py)
    filled = re.sub(
        r"!\{partitionKeyFromQuery:(\w+)\}",
        lambda m: {"aggregate_type": "Account", "date": "2026-12-01"}[m[1]],
        destination["Prefix"],
    )
    assert filled == ARCHIVE.partition("Account", "2026-12-01")
    assert destination["ErrorOutputPrefix"].startswith(f"{ARCHIVE.error_prefix}!{{firehose:error-output-type}}/")
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True


@STREAMS
def test_each_delivery_role_reads_its_stream_and_writes_the_archive_prefixes_only(
    synthesized: Synthesized, stream: KinesisStream
) -> None:
    delivery = _delivery(synthesized, stream)
    role_id = delivery["KinesisStreamSourceConfiguration"]["RoleARN"]["Fn::GetAtt"][0]
    trust = synthesized.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "firehose.amazonaws.com"}]
    assert "aws:SourceAccount" in trust[0]["Condition"]["StringEquals"]
    by_sid = {s.get("Sid"): s for s in synthesized.statements(role_id)}
    assert by_sid["ReadStream"]["Resource"] == {"Fn::GetAtt": [synthesized.stream_id(stream), "Arn"]}
    assert not any(a.startswith("kinesis:Put") for s in by_sid.values() for a in _list(s["Action"]))
    assert set(by_sid["WriteArchive"]["Action"]) == {"s3:AbortMultipartUpload", "s3:PutObject"}
    written = [str(r) for r in by_sid["WriteArchive"]["Resource"]]
    assert len(written) == 2
    assert any(f"/{ARCHIVE.prefix}*" in r for r in written)
    assert any(f"/{ARCHIVE.error_prefix}*" in r for r in written)
    for sid in ("DecryptStream", "EncryptArchive"):
        assert "kms:ViaService" in by_sid[sid]["Condition"]["StringEquals"], sid
    assert not any("s3:DeleteObject" in a for s in by_sid.values() for a in _list(s["Action"]))


def test_athena_reads_the_archive_through_projected_partitions(synthesized: Synthesized) -> None:
    _, table = _one(synthesized, "AWS::Glue::Table", "ArchiveTable")
    table_input = table["Properties"]["TableInput"]
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    types = parameters["projection.aggregate_type.values"].split(",")
    published = {t for s in TOPOLOGY.published_streams for t in s.aggregate_types}
    assert TOPOLOGY.heartbeat is not None
    assert set(types) == published | {TOPOLOGY.heartbeat.aggregate_type}
    assert parameters["projection.date.type"] == "date"
    assert parameters["projection.date.format"] == "yyyy-MM-dd"
    assert parameters["projection.date.range"].endswith(",NOW")
    assert "aggregate_type=${aggregate_type}/date=${date}/" in str(parameters["storage.location.template"])
    assert [k["Name"] for k in table_input["PartitionKeys"]] == ["aggregate_type", "date"]
    storage = table_input["StorageDescriptor"]
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(COLUMNS)
    _, workgroup = _one(synthesized, "AWS::Athena::WorkGroup", "ArchiveWorkGroup")
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"


@STREAMS
def test_a_delivery_that_stops_delivering_raises_its_freshness_alarm(
    synthesized: Synthesized, stream: KinesisStream
) -> None:
    alarms = [
        a["Properties"]
        for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if str(a["Properties"]["AlarmName"]).endswith(f"-archive-{stream.id}-freshness")
    ]
    (alarm,) = alarms
    metric = json.dumps(alarm.get("Metrics") or alarm)
    assert '"AWS/Firehose"' in metric
    assert '"DeliveryToS3.DataFreshness"' in metric
    # the heartbeat crosses every stream every few minutes: silence means a delivery that cannot read
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 900


def test_the_stack_tells_where_the_archive_is(synthesized: Synthesized) -> None:
    assert {"ArchiveBucketName", "ArchiveDatabase", "ArchiveWorkGroup"} <= set(synthesized.outputs)


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]
