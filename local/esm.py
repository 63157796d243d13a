"""An event source mapping on one shard, as Lambda runs it for a DynamoDB or Kinesis stream: read, filter, batch,
invoke, checkpoint, retry, bisect, give up to the on-failure destination. No threads and no AWS here: the reader, the
invoker, the destination and the clock are handed in (local/pipeline.py wires the real ones), so the decisions are
unit-tested with fakes.

What it does, step by step (`ShardConsumer.step`):
1. Reads the records after the last one read (at most a few batches ahead) and drops those no filter pattern accepts
   (checkpointed as if delivered).
2. Sends the leading records older than `max_record_age_seconds` to the on-failure destination, unread by the function.
3. Forms a batch of up to `batch_size` records (fewer after a bisection), waiting up to `max_batching_window_seconds`
   from the first record's arrival for a full one. A retry does not wait for the window.
4. Invokes the function with `{"Records": [...]}`, one invocation at a time, records in shard order, and honours the
   answer as Lambda does with ReportBatchItemFailures:
   - nothing failed (None, `{}`, an empty or null `batchItemFailures`): checkpoint after the batch;
   - `batchItemFailures`: checkpoint before the failed record with the lowest sequence number and retry from it (an
     empty, null or unknown `itemIdentifier`, or any other answer shape, fails the whole batch, as in Lambda);
   - a function error (exception, timeout, crash): the whole batch failed; with `bisect_on_error` a batch of two or
     more is split in two and each half retried in turn; splitting does not use up the retry quota;
   - after a record's `retry_attempts` retries (-1: forever), the batch that failed last is sent to the on-failure
     destination (Lambda's invocation record) and the shard moves past it.
5. Reports its checkpoint when it moved (`on_checkpoint`): the sequence number of the last record it is done with,
   every record up to it being delivered and answered, filtered out or given up (local/checkpoints.py keeps it
   across restarts; a consumer started at a checkpoint reads on after it).
Chaos (local/chaos.py) acts in step 4.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any, Final, Protocol

from infra.model import EventSource
from local.chaos import ChaosDice, ChaosSettings
from local.filters import Pattern, accepts, kinesis_view
from local.lambdas import FunctionError
from local.logs import log
from local.stream_events import Condition, StreamRecord, on_failure_record

RETRY_DELAY_SECONDS: Final = 0.2  # between a failed invocation and its retry
READ_AHEAD_BATCHES: Final = 4  # how many batches' worth of records a consumer holds in memory at most
POLL_SECONDS: Final = {"dynamodb": 0.25, "kinesis": 1.0}  # as Lambda polls each kind of stream


class ShardReader(Protocol):
    shard_id: str
    stream_arn: str

    def read(self, limit: int) -> list[StreamRecord]:
        """Up to `limit` records after the last ones returned, in shard order."""


Invoke = Callable[[dict[str, Any], str], Any]  # (event, request id) -> the handler's result; raises FunctionError
Send = Callable[[dict[str, Any]], None]  # sends an on-failure record to the mapping's destination
OnCheckpoint = Callable[[str], None]  # the consumer's new checkpoint (a sequence number); returns when it is kept


@dataclass(frozen=True)
class SourceMapping:
    """What a consumer needs to know about its event source mapping."""

    name: str  # for logs and the status, e.g. "fraud <- account-transactions"
    function_arn: str
    source: EventSource
    poll_seconds: float


@dataclass
class Stats:
    read: int = 0  # records read from the shard
    filtered_out: int = 0  # dropped by the filter patterns
    delivered: int = 0  # records handed to the function, redeliveries included
    done: int = 0  # records checkpointed after a successful (part of an) invocation
    invocations: int = 0
    failed_invocations: int = 0  # function errors (chaos included)
    partial_failures: int = 0  # answers naming failed records
    retries: int = 0
    bisections: int = 0
    expired: int = 0  # records older than the maximum record age
    discarded_batches: int = 0  # batches sent to the on-failure destination
    discarded_records: int = 0
    chaos: dict[str, int] = field(default_factory=dict)
    pending: int = 0  # read, not yet checkpointed
    checkpoint: str | None = None  # the sequence number of the last record done with (all before it are too)
    in_flight: bool = False
    last_activity_at: float = 0.0  # when an invocation or a discard last ended
    idle_checked_at: float = 0.0  # when the shard was last read with nothing new and nothing pending

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended. `failed_at` is the index (in shard order) of the first record to retry."""

    failed_at: int | None = None  # None: the whole batch succeeded
    error: str | None = None  # a function error (the whole batch failed, failed_at = 0)
    chaos: bool = False  # caused by a chaos switch: does not use up the retry quota

    @classmethod
    def function_error(cls, message: str, *, chaos: bool = False) -> Outcome:
        return cls(failed_at=0, error=message, chaos=chaos)


def interpret(result: Any, batch: Sequence[StreamRecord]) -> Outcome:
    """The handler's answer under ReportBatchItemFailures, as Lambda reads it."""
    if result is None:
        return Outcome()
    if not isinstance(result, Mapping):
        return Outcome.function_error(f"the response is not a partial batch response: {result!r}"[:200])
    failures = result.get("batchItemFailures")
    if not failures:
        return Outcome()
    if not isinstance(failures, list):
        return Outcome.function_error(f"batchItemFailures is not a list: {failures!r}"[:200])
    position = {record.sequence_number: index for index, record in enumerate(batch)}
    failed: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in position:
            return Outcome.function_error(f"itemIdentifier {identifier!r} is not a record of the batch")
        failed.append(position[identifier])
    return Outcome(failed_at=min(failed))


class ShardConsumer:
    def __init__(
        self,
        mapping: SourceMapping,
        reader: ShardReader,
        invoke: Invoke,
        send_failure: Send,
        *,
        chaos: ChaosDice | None = None,
        clock: Callable[[], float] = time.time,
        retry_delay: float = RETRY_DELAY_SECONDS,
        position: str | None = None,
        on_checkpoint: OnCheckpoint | None = None,
    ) -> None:
        """`position`: the sequence number the reader starts after (the checkpoint resumed from), if known."""
        self.mapping = mapping
        self.source = mapping.source
        self._reader = reader
        self.shard_id = reader.shard_id
        self._invoke = invoke
        self._send_failure = send_failure
        self._chaos = chaos or ChaosSettings().dice(mapping.name)
        self._clock = clock
        self._retry_delay = retry_delay
        self._filters: tuple[Pattern, ...] = mapping.source.filters
        # (record, when it was read, the sequence number of the record read before it: the checkpoint once it is
        # the head of the shard and everything before it is done)
        self._pending: deque[tuple[StreamRecord, float, str | None]] = deque()
        self._last_read = position  # the sequence number of the last record read
        self._on_checkpoint = on_checkpoint
        self._ranges: list[int] = []  # sizes of the bisected batches still to retry, the next one last
        self._attempts = 0  # failed invocations of the head record that count toward its retry quota
        self._invocations = 0  # invocations since the head record last changed
        self._retry_at: float | None = None  # the head batch failed: retry it then, without a batching window
        self.stats = Stats(checkpoint=position)
        self._log = {"mapping": mapping.name, "shard": reader.shard_id}

    # --- one step ----------------------------------------------------------------------------------------------

    @property
    def position(self) -> str | None:
        """The checkpoint: the sequence number of the last record done with (None: none read yet, no start known)."""
        return self._pending[0][2] if self._pending else self._last_read

    def step(self) -> float:
        """Do what is due now; returns how long to wait before the next step (0: go on at once)."""
        delay = self._step()
        position = self.position
        if position is not None and position != self.stats.checkpoint:
            if self._on_checkpoint is not None:
                self._on_checkpoint(position)
            self.stats.checkpoint = position
        return delay

    def _step(self) -> float:
        now = self._clock()
        read = self._read(now)
        if not self._pending:
            if not read:
                self.stats.idle_checked_at = now
            return self.mapping.poll_seconds
        if self._discard_expired(now):
            return 0.0
        if self._retry_at is not None and now < self._retry_at:
            return self._retry_at - now
        limit = min(self.source.batch_size, self._ranges[-1]) if self._ranges else self.source.batch_size
        window = self.source.max_batching_window_seconds
        if self._retry_at is None and window and len(self._pending) < limit:
            waited = now - self._pending[0][1]
            if waited < window:
                return min(self.mapping.poll_seconds, window - waited)
        batch = [record for record, _, _ in islice(self._pending, limit)]
        self.stats.in_flight = True
        try:
            outcome = self._deliver(batch)
        finally:
            self.stats.in_flight = False
        self._settle(batch, outcome, self._clock())
        self.stats.last_activity_at = self._clock()
        if self._retry_at is not None:
            return max(0.0, self._retry_at - self._clock())
        return 0.0 if self._pending else self.mapping.poll_seconds

    def _read(self, now: float) -> int:
        room = max(self.source.batch_size * READ_AHEAD_BATCHES, 1000) - len(self._pending)
        if room <= 0:
            return 0
        records = self._reader.read(min(room, 10_000))
        self.stats.read += len(records)
        for record in records:
            previous, self._last_read = self._last_read, record.sequence_number
            if accepts(self._filters, self._filter_view(record)):
                self._pending.append((record, now, previous))
            else:
                self.stats.filtered_out += 1
        self.stats.pending = len(self._pending)
        return len(records)

    def _filter_view(self, record: StreamRecord) -> Mapping[str, Any]:
        if not self._filters:
            return {}
        return kinesis_view(record.event) if self.source.kind == "kinesis" else record.event

    # --- invoking ----------------------------------------------------------------------------------------------

    def _deliver(self, batch: list[StreamRecord]) -> Outcome:
        """Invoke the function with `batch` (through the chaos switches); how it went."""
        plan = self._chaos.plan(len(batch))
        records = plan.apply_order(batch)
        if plan.order is not None:
            self._chaos_action("shuffle", batch)
        if plan.failure == "before":
            self._chaos_action("fail-before", batch)
            self._invocations += 1
            return Outcome.function_error("chaos: the invocation failed before the function ran", chaos=True)
        if plan.failure == "midway":
            half = records[: max(1, len(records) // 2)]
            self._chaos_action("fail-midway", batch, invoked=len(half))
            with contextlib.suppress(FunctionError):  # whatever it answers, the invocation fails
                self._call(half)
            return Outcome.function_error("chaos: the invocation failed midway through the batch", chaos=True)
        try:
            result = self._call(records)
            if plan.duplicate:
                self._chaos_action("duplicate", batch)
                result = self._call(records)
        except FunctionError as error:
            return Outcome.function_error(str(error))
        return interpret(result, batch)

    def _call(self, records: Sequence[StreamRecord]) -> Any:
        self.stats.invocations += 1
        self.stats.delivered += len(records)
        self._invocations += 1
        return self._invoke({"Records": [record.event for record in records]}, str(uuid.uuid4()))

    def _chaos_action(self, action: str, batch: Sequence[StreamRecord], **extra: Any) -> None:
        self.stats.chaos[action] = self.stats.chaos.get(action, 0) + 1
        log.info(
            "chaos",
            extra={
                **self._log,
                "action": action,
                "batch_size": len(batch),
                "first_sequence_number": batch[0].sequence_number,
                **extra,
            },
        )

    # --- answering -----------------------------------------------------------------------------------------------

    def _settle(self, batch: list[StreamRecord], outcome: Outcome, now: float) -> None:
        if outcome.failed_at is None:
            self._checkpoint(len(batch))
            self.stats.done += len(batch)
            return
        failed = batch[outcome.failed_at :]
        bisected = False
        if outcome.error is None:
            self.stats.partial_failures += 1
            self.stats.done += outcome.failed_at
            self._checkpoint(outcome.failed_at)
        else:
            self.stats.failed_invocations += 1
            if self.source.bisect_on_error and len(batch) > 1:
                if self._ranges:
                    self._ranges.pop()
                self._ranges += [len(batch) - len(batch) // 2, len(batch) // 2]
                self.stats.bisections += 1
                bisected = True
        if not bisected and not outcome.chaos:
            self._attempts += 1
        log.warning(
            "batch failed",
            extra={
                **self._log,
                "reason": outcome.error or "batch item failures",
                "first_failed_sequence_number": failed[0].sequence_number,
                "records": len(failed),
                "attempts": self._attempts,
                "bisected": bisected,
                "chaos": outcome.chaos,
            },
        )
        if 0 <= self.source.retry_attempts < self._attempts:
            self._discard(failed, "RetryAttemptsExhausted", now, function_error=outcome.error is not None)
            return
        self.stats.retries += 1
        self._retry_at = now + self._retry_delay

    def _checkpoint(self, count: int) -> None:
        """Move past the first `count` pending records."""
        if count <= 0:
            return
        for _ in range(count):
            self._pending.popleft()
        left = count
        while left and self._ranges:
            taken = min(left, self._ranges[-1])
            self._ranges[-1] -= taken
            left -= taken
            if not self._ranges[-1]:
                self._ranges.pop()
        self._attempts = self._invocations = 0
        self._retry_at = None
        self.stats.pending = len(self._pending)

    def _discard_expired(self, now: float) -> bool:
        maximum = self.source.max_record_age_seconds
        if maximum < 0:
            return False
        expired: list[StreamRecord] = []
        for record, _, _ in self._pending:
            if now - record.arrival <= maximum or len(expired) == self.source.batch_size:
                break
            expired.append(record)
        if not expired:
            return False
        self.stats.expired += len(expired)
        self._discard(expired, "RecordAgeExceeded", now, function_error=False)
        return True

    def _discard(self, batch: list[StreamRecord], condition: Condition, now: float, *, function_error: bool) -> None:
        """Give up on `batch` (the first pending records): its invocation record to the destination, then past it."""
        record = on_failure_record(
            self.source.kind,
            batch,
            condition=condition,
            function_arn=self.mapping.function_arn,
            shard_id=self._reader.shard_id,
            stream_arn=self._reader.stream_arn,
            invoke_count=self._invocations,
            function_error=function_error,
            now=now,
        )
        log.error(
            "batch sent to the on-failure destination",
            extra={**self._log, "condition": condition, "on_failure_record": record},
        )
        try:
            self._send_failure(record)
        except Exception:  # the record is in the log line above: not lost, the shard goes on
            log.exception("cannot send to the on-failure destination", extra=self._log)
        self.stats.discarded_batches += 1
        self.stats.discarded_records += len(batch)
        self.stats.last_activity_at = self._clock()
        self._checkpoint(len(batch))
