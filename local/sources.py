"""The shards the emulated event source mappings read, as `esm.ShardReader`s.

- DynamoDB Streams: moto's stream read in process, under its lock, with the journal's cursor (local/dynamodb_streams.py
  says why not through the Streams API).
- Kinesis: GetShardIterator / GetRecords on moto, as Lambda's poller does. The iterator is kept between reads and
  taken again after the last sequence number read if moto no longer knows it.

A reader given `after` (a mapping's checkpoint, local/checkpoints.py) reads the records after that sequence number;
otherwise it starts at its starting position. On start the streams hold what a mapping may still have to read: the
records after the lowest checkpoint of their mappings, put back by the journals, then this run's writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from local.dynamodb_streams import StreamCursor
from local.stream_events import StreamRecord, dynamodb_record, kinesis_record

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]


class DynamoDBShardReader:
    def __init__(
        self,
        cursor: StreamCursor,
        *,
        shard_id: str,
        stream_arn: str,
        region: str,
        starting_position: StartingPosition = "TRIM_HORIZON",
        after: str | None = None,
    ) -> None:
        self._cursor = cursor
        self.shard_id = shard_id
        self.stream_arn = stream_arn
        self._region = region
        if after is not None:
            cursor.position = after
        elif starting_position == "LATEST":
            cursor.skip_to_end()

    @property
    def position(self) -> str | None:
        """The sequence number of the last record read (or started after); None: none yet."""
        return self._cursor.position

    def read(self, limit: int) -> list[StreamRecord]:
        return [
            dynamodb_record(raw, stream_arn=self.stream_arn, region=self._region) for raw in self._cursor.next(limit)
        ]


class KinesisShardReader:
    def __init__(
        self,
        client: KinesisClient,
        *,
        stream_name: str,
        shard_id: str,
        stream_arn: str,
        region: str,
        invoke_identity_arn: str,
        starting_position: StartingPosition = "TRIM_HORIZON",
        after: str | None = None,
    ) -> None:
        self._client = client
        self._stream_name = stream_name
        self.shard_id = shard_id
        self.stream_arn = stream_arn
        self._region = region
        self._identity = invoke_identity_arn
        self._last: str | None = after  # the sequence number of the last record read (or started after)
        if after is None and starting_position == "LATEST":
            self._skip_to_end()
        self._iterator: str | None = self._new_iterator()

    @property
    def position(self) -> str | None:
        """The sequence number of the last record read (or started after); None: none yet."""
        return self._last

    def _skip_to_end(self) -> None:
        """Move past every record in the shard now (LATEST), learning the last one's sequence number."""
        iterator = self._new_iterator()
        while True:
            response: Any = self._client.get_records(ShardIterator=iterator, Limit=10_000)
            if response["Records"]:
                self._last = str(response["Records"][-1]["SequenceNumber"])
            if len(response["Records"]) < 10_000 or not response.get("NextShardIterator"):
                return
            iterator = response["NextShardIterator"]

    def read(self, limit: int) -> list[StreamRecord]:
        if self._iterator is None:
            self._iterator = self._new_iterator()
        try:
            response: Any = self._client.get_records(ShardIterator=self._iterator, Limit=limit)
        except self._client.exceptions.ExpiredIteratorException:
            self._iterator = None
            return []
        self._iterator = response.get("NextShardIterator")
        records = [
            kinesis_record(
                raw,
                shard_id=self.shard_id,
                stream_arn=self.stream_arn,
                region=self._region,
                invoke_identity_arn=self._identity,
            )
            for raw in response["Records"]
        ]
        if records:
            self._last = records[-1].sequence_number
        return records

    def _new_iterator(self) -> str:
        """After the last record read, or from the shard's first record when there is none."""
        request: dict[str, Any] = {"StreamName": self._stream_name, "ShardId": self.shard_id}
        if self._last is not None:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": self._last}
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        iterator: str = self._client.get_shard_iterator(**request)["ShardIterator"]
        return iterator
