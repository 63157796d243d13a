"""The event archive in S3, as Amazon Data Firehose writes it (docs/archive.md): gzip objects of JSON lines, one
public event message per line, under `events/aggregate_type=<type>/date=<YYYY-MM-DD>/`."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from ledger.kernel.archive import Partition
from ledger.kernel.messages import EventMessage, parse_message

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX: Final = "events/"  # infra/topology.py's Archive.prefix (tests/unit/test_archive.py checks they agree)
_TYPE_PART: Final = re.compile(r"aggregate_type=([A-Za-z][A-Za-z0-9]*)/")
_DAY_PART: Final = re.compile(r"date=(\d{4}-\d{2}-\d{2})/")


def partition_prefix(partition: Partition) -> str:
    return f"{PREFIX}aggregate_type={partition.aggregate_type}/date={partition.day}/"


class S3Archive:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def partitions(self) -> list[Partition]:
        found: list[Partition] = []
        for type_prefix in self._folders(PREFIX):
            type_match = _TYPE_PART.fullmatch(type_prefix.removeprefix(PREFIX))
            if type_match is None:
                continue  # not a partition folder (someone's file): not ours to read
            for day_prefix in self._folders(type_prefix):
                day_match = _DAY_PART.fullmatch(day_prefix.removeprefix(type_prefix))
                if day_match is not None:
                    found.append(Partition(type_match[1], day_match[1]))
        return sorted(found, key=lambda partition: (partition.day, partition.aggregate_type))

    def keys(self, partition: Partition) -> list[str]:
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=partition_prefix(partition)):
            keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".gz")]
        return keys

    def messages(self, partition: Partition) -> Iterator[EventMessage]:
        for key in self.keys(partition):
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            for line in gzip.decompress(body).splitlines():
                if line.strip():
                    yield parse_message(line)

    def _folders(self, prefix: str) -> list[str]:
        folders: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix, Delimiter="/"):
            folders += [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
        return folders
