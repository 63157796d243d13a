"""Which aggregates the event streams' recent records name: the streams a replay reads from the event table because
the archive cannot hold them yet (their first events are younger than a delivery's buffer). Reads every shard of the
given Kinesis streams from an instant to their tip, keeping only the aggregate type and id of each message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ledger.kernel.messages import InvalidMessageError, json_object
from ledger.kernel.records import StreamId

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient


MARGIN: Final = timedelta(hours=1)  # far beyond a delivery's buffer (a minute) and its freshness alarm (15)


class RecentStreams:
    def __init__(self, client: KinesisClient, stream_names: Iterable[str]) -> None:
        self._client = client
        self._names = tuple(dict.fromkeys(stream_names))

    def __call__(self, aggregate_types: frozenset[str], newest_archived: str | None) -> list[StreamId]:
        """From MARGIN before the newest archived event (from the streams' oldest record when none is)."""
        since = None
        if newest_archived is not None:
            since = datetime.fromisoformat(newest_archived.replace("Z", "+00:00")) - MARGIN
        found: dict[StreamId, None] = {}
        for name in self._names:
            for shard in self._client.list_shards(StreamName=name)["Shards"]:
                for data in self._records(name, shard["ShardId"], since):
                    try:
                        message = json_object(data)
                    except InvalidMessageError:
                        continue  # not an event message: the consumers' poison record, not a stream to replay
                    aggregate_type, aggregate_id = message.get("aggregate_type"), message.get("aggregate_id")
                    if aggregate_type in aggregate_types and isinstance(aggregate_id, str):
                        found[StreamId(str(aggregate_type), aggregate_id)] = None
        return list(found)

    def _records(self, stream: str, shard: str, since: datetime | None) -> Iterable[bytes]:
        position: dict[str, Any] = (
            {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": since}
            if since is not None
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator: str | None = self._client.get_shard_iterator(StreamName=stream, ShardId=shard, **position)[
            "ShardIterator"
        ]
        while iterator:
            response: Any = self._client.get_records(ShardIterator=iterator, Limit=10_000)
            for record in response["Records"]:
                yield bytes(record["Data"])
            if not response["Records"] and not response.get("MillisBehindLatest"):
                return  # at the tip
            iterator = response.get("NextShardIterator")
