"""Putting messages on a Kinesis stream with PutRecords (up to 500 a call), reporting which ones it refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

_PER_CALL: Final = 500  # PutRecords' limit (and 5 MB, far above 500 event messages)


class KinesisBus:
    def __init__(self, client: KinesisClient) -> None:
        self._client = client

    def put(self, stream: str, messages: Sequence[tuple[str, bytes]]) -> list[int]:
        """Put in order; the indexes of the messages Kinesis refused (throttled, internal failure)."""
        refused: list[int] = []
        for start in range(0, len(messages), _PER_CALL):
            chunk = messages[start : start + _PER_CALL]
            response: Any = self._client.put_records(
                StreamName=stream, Records=[{"PartitionKey": key, "Data": data} for key, data in chunk]
            )
            if response.get("FailedRecordCount", 0):
                refused += [start + i for i, result in enumerate(response["Records"]) if result.get("ErrorCode")]
        return refused
