"""The archive's delivery on moto: what Amazon Data Firehose does with each published Kinesis stream once deployed
(infra/archive.py), done by the local runtime into moto's S3, object for object.

Each published stream gets a delivery, run by the pipeline as one more event source mapping (`archive <- <stream>`:
the same polling, buffering window, checkpoints and chaos as the functions' mappings, local/esm.py), whose
invocation is `ArchiveDelivery`: the batch's messages, unchanged and one per line, grouped by the partition their
fields name (aggregate type, UTC day they occurred), one gzip object per partition named as Firehose names them
(`<delivery stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz`). A record whose fields name no partition goes, with
its error, under the error prefix, as Firehose's dynamic partitioning puts it (`partitioning-failed`).

moto keeps S3 in memory, so every object is first written under `<data-dir>/archive/` (fsynced) and `restore` puts
them back into moto's S3 when the runtime starts again. Delivery is at least once, as Firehose's: an invocation that
fails after writing (chaos, a crash before the checkpoint is kept) writes again, and readers drop repeated event ids.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from infra.model import Archive, EventSource, KinesisStream
from local.environment import LOCAL_ACCOUNT_ID, LOCAL_ARCHIVE_BUCKET
from local.files import replace_synced_bytes
from local.logs import log

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOCAL_BUCKET: Final = LOCAL_ARCHIVE_BUCKET
MIRROR_DIRECTORY: Final = "archive"
DELIVERY_STREAM_VERSION: Final = 1  # Firehose's: the delivery stream's configuration version, in each object's name
_TYPE: Final = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_RECORD_AGE: Final = 24 * 3600  # Firehose keeps retrying a delivery to S3 for a day


def delivery_stream_name(stream: KinesisStream) -> str:
    return f"ledger-archive-{stream.id}"


def delivery_arn(stream: KinesisStream, region: str) -> str:
    return f"arn:aws:firehose:{region}:{LOCAL_ACCOUNT_ID}:deliverystream/{delivery_stream_name(stream)}"


def delivery_source(archive: Archive, stream: KinesisStream) -> EventSource:
    """How the local delivery reads its stream: Firehose's buffering as a batching window, every record of the
    window in one invocation (Kinesis' most per read), retried until it lands, as Firehose does for a day."""
    return EventSource(
        kind="kinesis",
        source=stream.id,
        batch_size=10_000,
        max_batching_window_seconds=archive.local_buffer_seconds,
        retry_attempts=-1,
        max_record_age_seconds=_RECORD_AGE,
        bisect_on_error=False,
        rationale=archive.rationale,
    )


class ArchiveMirror:
    """The archive's objects on disk, by key: what survives the runtime, which moto's S3 does not."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / MIRROR_DIRECTORY

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def put(self, key: str, body: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_synced_bytes(path, body)

    def objects(self) -> Iterator[tuple[str, Path]]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*.gz")):
            yield path.relative_to(self.root).as_posix(), path

    def restore(self, s3: S3Client, bucket: str) -> int:
        """Put every object kept on disk into `bucket` (moto's, empty at start); how many."""
        count = 0
        for key, path in self.objects():
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
            count += 1
        return count


class ArchiveDelivery:
    """One delivery stream's invocation: a Kinesis batch (the event source mapping's event) into archive objects."""

    def __init__(
        self,
        archive: Archive,
        stream: KinesisStream,
        s3: S3Client,
        bucket: str,
        mirror: ArchiveMirror,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._archive = archive
        self._name = delivery_stream_name(stream)
        self._s3 = s3
        self._bucket = bucket
        self._mirror = mirror
        self._clock = clock

    def __call__(self, event: dict[str, Any], request_id: str) -> None:
        partitions: dict[str, list[bytes]] = defaultdict(list)
        failed: list[bytes] = []
        for record in event["Records"]:
            data = base64.b64decode(record["kinesis"]["data"])
            prefix, error = self._partition(data)
            if prefix is None:
                failed.append(_error_line(data, error))
            else:
                partitions[prefix].append(data)
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(self._clock()))
        for prefix, lines in partitions.items():
            self._put(f"{prefix}{self._object_name(stamp)}", lines)
        if failed:
            hour = stamp[:13].replace("-", "/")  # Firehose's default error path: yyyy/MM/dd/HH
            self._put(f"{self._archive.error_prefix}partitioning-failed/{hour}/{self._object_name(stamp)}", failed)
            log.warning("archive: records with no partition", extra={"delivery": self._name, "records": len(failed)})

    def _partition(self, data: bytes) -> tuple[str | None, str]:
        """The partition prefix the message's fields name (Firehose's JQ: .aggregate_type, .occurred_at[0:10])."""
        try:
            message = json.loads(data)
        except ValueError as error:
            return None, f"not JSON: {error}"
        if not isinstance(message, dict):
            return None, "not a JSON object"
        aggregate_type, occurred_at = message.get("aggregate_type"), message.get("occurred_at")
        if not isinstance(aggregate_type, str) or not _TYPE.fullmatch(aggregate_type):
            return None, "aggregate_type is missing or not a type name"
        if not isinstance(occurred_at, str) or not _DAY.fullmatch(occurred_at[:10]):
            return None, "occurred_at is missing or not an ISO-8601 time"
        return self._archive.partition(aggregate_type, occurred_at[:10]), ""

    def _object_name(self, stamp: str) -> str:
        return f"{self._name}-{DELIVERY_STREAM_VERSION}-{stamp}-{uuid.uuid4()}.gz"

    def _put(self, key: str, lines: list[bytes]) -> None:
        body = gzip.compress(b"".join(line + b"\n" for line in lines))
        self._mirror.put(key, body)  # first on disk: what is in moto's S3 is always kept
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)  # no Content-Encoding, as Firehose writes


def _error_line(data: bytes, error: str) -> bytes:
    return json.dumps(
        {
            "rawData": base64.b64encode(data).decode(),
            "errorCode": "DynamicPartitioning.MetadataExtractionFailed",
            "errorMessage": error,
        },
        separators=(",", ":"),
    ).encode()
