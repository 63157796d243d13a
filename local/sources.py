"""The shards the emulated event source mappings read, as `esm.ShardReader`s.

- DynamoDB Streams: moto's stream read in process, under its lock, with the journal's cursor (local/dynamodb_streams.py
  says why not through the Streams API). Streams are turned on after the journal is reloaded, so a reader starting
  at TRIM_HORIZON starts at this run's first write.
- Kinesis: GetShardIterator / GetRecords on moto, as Lambda's poller does. The iterator is kept between reads and
  taken again after the last sequence number read if moto no longer knows it.
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
    ) -> None:
        self._cursor = cursor
        self.shard_id = shard_id
        self.stream_arn = stream_arn
        self._region = region
        if starting_position == "LATEST":
            cursor.skip_to_end()

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
    ) -> None:
        self._client = client
        self._stream_name = stream_name
        self.shard_id = shard_id
        self.stream_arn = stream_arn
        self._region = region
        self._identity = invoke_identity_arn
        self._last: str | None = None  # the sequence number of the last record read
        self._iterator: str | None = self._new_iterator(starting_position)

    def read(self, limit: int) -> list[StreamRecord]:
        if self._iterator is None:
            self._iterator = self._new_iterator("TRIM_HORIZON")
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

    def _new_iterator(self, starting_position: StartingPosition) -> str:
        request: dict[str, Any] = {"StreamName": self._stream_name, "ShardId": self.shard_id}
        if self._last is not None:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": self._last}
        else:
            request["ShardIteratorType"] = starting_position
        iterator: str = self._client.get_shard_iterator(**request)["ShardIterator"]
        return iterator
