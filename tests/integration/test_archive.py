"""The event archive on moto's S3: the local delivery writes it as Firehose does, the reader reads it back, and the
check compares it with the event store (copies dropped, differences named)."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.topology import TOPOLOGY
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.s3_archive import PREFIX, S3Archive
from ledger.catalog import AGGREGATES
from ledger.kernel.archive import Partition, check
from ledger.kernel.history import ArchiveHistory
from ledger.kernel.messages import message_of
from ledger.kernel.records import EventRecord, StreamId
from local.archive import ArchiveDelivery, ArchiveMirror

BUCKET = "archive-under-test"
ARCHIVE = TOPOLOGY.archive
assert ARCHIVE is not None
ORDERS = TOPOLOGY.stream("orders")
FIREHOSE_NAME = re.compile(r"ledger-archive-orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz")


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def deposit(account_id: str, version: int, day: str, amount: int = 100) -> EventRecord:
    if version == 1:
        event_type, data = (
            "AccountCreated",
            {"account_id": account_id, "owner": "Ann", "currency": "USD", "initial_balance": 0},
        )
        schema = 2
    else:
        event_type, data, schema = (
            "MoneyDeposited",
            {"account_id": account_id, "amount": amount, "description": None},
            1,
        )
    return EventRecord(
        "Account",
        account_id,
        version,
        f"{account_id}-e{version}",
        event_type,
        schema,
        f"{day}T10:00:0{version % 10}.000Z",
        data,
        {"correlation_id": "c-1"},
    )


def kinesis_event(records: list[EventRecord], *, raw: tuple[bytes, ...] = ()) -> dict[str, Any]:
    payloads = [message_of(record, AGGREGATES).to_json() for record in records] + list(raw)
    return {"Records": [{"kinesis": {"data": base64.b64encode(p).decode()}} for p in payloads]}


def delivery(s3: Any, tmp_path: Path) -> ArchiveDelivery:
    assert ARCHIVE is not None
    return ArchiveDelivery(ARCHIVE, ORDERS, s3, BUCKET, ArchiveMirror(tmp_path), clock=lambda: 1_796_000_000.0)


def test_a_batch_lands_in_one_gzip_object_per_partition_named_as_firehose_names_them(s3: Any, tmp_path: Path) -> None:
    # GIVEN a batch holding two accounts' events over two days and a record that is not a message
    records = [deposit("a-1", 1, "2026-11-30"), deposit("a-1", 2, "2026-12-01"), deposit("a-2", 1, "2026-12-01")]
    # WHEN the delivery takes it
    delivery(s3, tmp_path)(kinesis_event(records, raw=(b"not json",)), "request-1")
    # THEN each (type, day) partition holds one object of JSON lines: the messages as they were on the stream
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    events = [k for k in keys if k.startswith(PREFIX)]
    assert [k.rsplit("/", 1)[0] for k in events] == [
        "events/aggregate_type=Account/date=2026-11-30",
        "events/aggregate_type=Account/date=2026-12-01",
    ]
    assert all(FIREHOSE_NAME.fullmatch(k.rsplit("/", 1)[1]) for k in events)
    second_day = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=events[1])["Body"].read())
    assert second_day.splitlines() == [message_of(r, AGGREGATES).to_json() for r in records[1:]]
    # and what names no partition goes under the error prefix, with its raw data and why
    (error_key,) = [k for k in keys if k.startswith("errors/")]
    assert error_key.startswith("errors/partitioning-failed/2026/")
    (failure,) = [
        json.loads(line)
        for line in gzip.decompress(s3.get_object(Bucket=BUCKET, Key=error_key)["Body"].read()).splitlines()
    ]
    assert base64.b64decode(failure["rawData"]) == b"not json"
    assert failure["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed"


def test_what_the_delivery_wrote_is_kept_on_disk_and_restored_into_an_empty_bucket(s3: Any, tmp_path: Path) -> None:
    delivery(s3, tmp_path)(kinesis_event([deposit("a-1", 1, "2026-12-01")]), "request-1")
    written = {
        item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    }
    s3.create_bucket(Bucket="after-restart")
    assert ArchiveMirror(tmp_path).restore(s3, "after-restart") == 1
    restored = {
        item["Key"]: s3.get_object(Bucket="after-restart", Key=item["Key"])["Body"].read()
        for item in s3.list_objects_v2(Bucket="after-restart")["Contents"]
    }
    assert restored == written


def test_the_reader_lists_partitions_by_day_and_reads_every_copy(s3: Any, tmp_path: Path) -> None:
    deliver = delivery(s3, tmp_path)
    records = [deposit("a-1", 1, "2026-11-30"), deposit("a-1", 2, "2026-12-01")]
    deliver(kinesis_event(records), "request-1")
    deliver(kinesis_event(records[1:]), "request-2")  # a retried delivery: a second copy
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}README.txt", Body=b"someone's note")  # not a partition
    archive = S3Archive(s3, BUCKET)
    assert archive.partitions() == [Partition("Account", "2026-11-30"), Partition("Account", "2026-12-01")]
    copies = list(archive.messages(Partition("Account", "2026-12-01")))
    assert copies == [message_of(records[1], AGGREGATES)] * 2


def test_the_check_drops_copies_and_names_what_is_missing_extra_different_or_not_yet_delivered(
    s3: Any, tmp_path: Path
) -> None:
    # GIVEN a store of two accounts, and an archive that got a-1's history twice, a-2's v1 and v3 but not its v2,
    # an event the store has not, and an altered copy of nothing else
    store = InMemoryEventStore()
    a1 = [deposit("a-1", v, "2026-11-30") for v in (1, 2, 3)]
    a2 = [deposit("a-2", v, "2026-11-30") for v in (1, 2, 3)]
    recent = deposit("a-2", 4, "2026-12-01")
    for history in (a1, [*a2, recent]):
        store.append(history)
    deliver = delivery(s3, tmp_path)
    deliver(kinesis_event(a1), "r-1")
    deliver(kinesis_event(a1), "r-2")
    stranger = deposit("a-9", 1, "2026-11-30")
    deliver(kinesis_event([a2[0], a2[2], stranger]), "r-3")
    # WHEN checked with a cut after every event but the recent one
    report = check(S3Archive(s3, BUCKET), store, AGGREGATES, cut="2026-12-01T00:00:00.000Z")
    # THEN copies are dropped, a-2 v2 is missing and leaves a gap, the stranger is extra, the recent one not yet due
    assert (report.stored, report.archived, report.copies, report.not_yet) == (7, 6, 9, 1)
    assert report.missing == ["Account a-2 v2 (a-2-e2)"]
    assert report.streams_with_gaps == ["Account a-2: archived v1, v3"]
    assert report.extra == ["a-9-e1"]
    assert not report.consistent
    # and once a-2 v2 arrives and the stranger is gone, it is consistent however many copies there are
    deliver(kinesis_event([a2[1]]), "r-4")
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]:
        body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
        kept = [line for line in body.splitlines() if b'"a-9"' not in line]
        s3.put_object(Bucket=BUCKET, Key=item["Key"], Body=gzip.compress(b"".join(x + b"\n" for x in kept)))
    report = check(S3Archive(s3, BUCKET), store, AGGREGATES, cut="2026-12-01T00:00:00.000Z")
    assert report.consistent, report.lines()
    assert report.lines()[-1] == "consistent"


def test_an_archived_message_unlike_the_stored_event_is_named(s3: Any, tmp_path: Path) -> None:
    store = InMemoryEventStore()
    history = [deposit("a-1", 1, "2026-11-30"), deposit("a-1", 2, "2026-11-30", amount=100)]
    store.append(history)
    altered = deposit("a-1", 2, "2026-11-30", amount=999_999)
    delivery(s3, tmp_path)(kinesis_event([history[0], altered]), "r-1")
    report = check(S3Archive(s3, BUCKET), store, AGGREGATES, cut="2026-12-01T00:00:00.000Z")
    assert report.different == ["Account a-1 v2 (a-1-e2)"]
    assert not report.consistent


def test_the_readers_prefix_is_the_topologys() -> None:
    assert ARCHIVE is not None
    assert ARCHIVE.prefix == PREFIX


def _versions(pages: list[tuple[Any, list[Any]]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for stream, page in pages:
        found.setdefault(stream.aggregate_id, []).extend(event.version for event in page)
    return found


def test_history_reads_each_stream_in_order_once_and_fills_from_the_store_what_the_archive_lacks(
    s3: Any, tmp_path: Path
) -> None:
    # GIVEN a-1 with v1-v2 on one day and v3-v4 the next, v3 not delivered yet, v5 only in the store, a copy of v2;
    # a-2 only in the store (too recent for the archive), which the streams' recent records name
    store = InMemoryEventStore()
    a1 = [deposit("a-1", 1, "2026-11-30"), deposit("a-1", 2, "2026-11-30")]
    a1 += [deposit("a-1", v, "2026-12-01") for v in (3, 4, 5)]
    a2 = [deposit("a-2", 1, "2026-12-01")]
    store.append(a1)
    store.append(a2)
    deliver = delivery(s3, tmp_path)
    deliver(kinesis_event([a1[0], a1[1], a1[1], a1[3]]), "r-1")
    sources: list[str] = []
    asked: list[str | None] = []

    def recent(types: frozenset[str], newest: str | None) -> list[StreamId]:
        asked.append(newest)
        return [StreamId("Account", "a-2")]

    history = ArchiveHistory(S3Archive(s3, BUCKET), store, AGGREGATES, recent=recent, on_event=sources.append)
    # WHEN read
    pages = list(history.pages(frozenset({"Account"})))
    # THEN every event once, each stream in version order; the gap and the tail from the store
    assert _versions(pages) == {"a-1": [1, 2, 3, 4, 5], "a-2": [1]}
    assert sources.count("archive") == 3
    assert sources.count("store") == 3
    assert asked == [a1[3].occurred_at]  # the streams are read from a while before the newest archived event


def test_history_from_a_day_starts_each_stream_at_its_first_event_of_that_day(s3: Any, tmp_path: Path) -> None:
    store = InMemoryEventStore()
    a1 = [deposit("a-1", 1, "2026-11-30"), deposit("a-1", 2, "2026-12-01"), deposit("a-1", 3, "2026-12-01")]
    store.append(a1)
    delivery(s3, tmp_path)(kinesis_event(a1[:2]), "r-1")
    history = ArchiveHistory(S3Archive(s3, BUCKET), store, AGGREGATES, since="2026-12-01")
    assert _versions(list(history.pages(frozenset({"Account"})))) == {"a-1": [2, 3]}
    # and a model that needs no event is told of each stream once
    assert [stream.aggregate_id for stream, page in history.pages(frozenset({"Account"}), events=False)] == ["a-1"]
