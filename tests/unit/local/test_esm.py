"""The event source mapping engine (local/esm.py) with a fake shard, function and clock: batching, filtering,
checkpoints, partial failures, bisection, retries, record age, the on-failure record, and chaos."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local.chaos import ChaosSettings
from local.esm import Outcome, interpret
from local.lambdas import FunctionError
from tests.unit.local.fakes import FUNCTION_ARN, SHARD_ID, STREAM_ARN, crash_on, harness, report_failures_of


def texts(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}{index}" for index in range(start, start + count)]


def test_delivers_every_record_in_shard_order_in_batches_of_the_batch_size() -> None:
    # GIVEN a mapping with batches of 10 and 25 records on its shard
    h = harness(batch_size=10)
    h.shard.put(*texts("r", 25))
    # WHEN it runs
    h.run(5)
    # THEN the function got them in order, 10, 10 then 5, each once, and nothing was given up
    assert h.function.calls == [texts("r", 10), texts("r", 10, 10), texts("r", 5, 20)]
    assert h.failures == []
    assert (h.consumer.stats.done, h.consumer.stats.pending) == (25, 0)


def test_the_event_is_lambdas_kinesis_event() -> None:
    seen: list[dict[str, Any]] = []
    h = harness(seen.extend)
    (record,) = h.shard.put('{"a": 1}', partition_key="acc-1")
    h.run(2)
    assert seen == [record.event]
    assert seen[0]["eventID"] == f"{SHARD_ID}:{record.sequence_number}"
    assert seen[0]["eventSourceARN"] == STREAM_ARN


def test_waits_for_the_batching_window_unless_the_batch_is_full() -> None:
    # GIVEN a 5 s batching window and batches of 4
    h = harness(batch_size=4, max_batching_window_seconds=5)
    h.shard.put("a", "b")
    # WHEN less than the window has passed THEN nothing is invoked
    h.run(3)
    assert h.function.calls == []
    # WHEN the window has passed THEN what there is goes
    h.run(3)
    assert h.function.calls == [["a", "b"]]
    # WHEN a full batch arrives THEN it goes without waiting
    h.shard.put("c", "d", "e", "f")
    h.run(1.5)
    assert h.function.calls[1] == ["c", "d", "e", "f"]


def test_without_a_window_records_go_at_the_next_poll() -> None:
    h = harness(batch_size=100)
    h.shard.put("a")
    h.run(1.1)
    assert h.function.calls == [["a"]]


def test_filter_patterns_drop_the_records_matching_none_of_them() -> None:
    # GIVEN a mapping that takes deposits and large withdrawals only
    h = harness(
        filters=[
            {"data": {"type": ["deposit"]}},
            {"data": {"type": ["withdrawal"], "amount": [{"numeric": [">=", 100]}]}},
        ]
    )
    kept = [json.dumps({"type": "deposit", "amount": 1}), json.dumps({"type": "withdrawal", "amount": 500})]
    dropped = [json.dumps({"type": "withdrawal", "amount": 5}), json.dumps({"type": "opened"}), "not json"]
    h.shard.put(kept[0], dropped[0], dropped[1], kept[1], dropped[2])
    # WHEN it runs THEN the function sees the matching records only, and the others count as filtered out
    h.run(2)
    assert h.function.delivered == kept
    assert (h.consumer.stats.filtered_out, h.consumer.stats.pending) == (3, 0)


def test_a_partial_failure_checkpoints_before_the_lowest_failed_record_and_retries_from_it() -> None:
    records: list[list[dict[str, Any]]] = []

    def answer(batch: list[dict[str, Any]]) -> Any:
        if len(records) == 0:
            records.append(batch)
            failed = [batch[5], batch[3]]  # any order: the lowest sequence number counts
            return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in failed]}
        return None

    h = harness(answer, batch_size=10)
    h.shard.put(*texts("r", 8))
    h.run(3)
    assert h.function.calls == [texts("r", 8), texts("r", 5, 3)]
    assert h.consumer.stats.partial_failures == 1
    assert h.consumer.stats.done == 8


@pytest.mark.parametrize(
    "bad_answer",
    [
        {"batchItemFailures": [{"itemIdentifier": "49999"}]},  # not in the batch
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "1001"}]},
        "OK",
    ],
)
def test_an_answer_lambda_cannot_read_fails_the_whole_batch(bad_answer: Any) -> None:
    answers = [bad_answer]
    h = harness(lambda records: answers.pop() if answers else None, batch_size=10, bisect_on_error=False)
    h.shard.put(*texts("r", 3))
    h.run(3)
    assert h.function.calls == [texts("r", 3), texts("r", 3)]


@pytest.mark.parametrize("answer", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_answer_is_a_success(answer: Any) -> None:
    assert interpret(answer, []) == Outcome()


def test_bisection_isolates_a_poison_record_without_using_up_its_retries() -> None:
    # GIVEN a function that fails any batch holding "p", bisect on error, 2 retries
    h = harness(crash_on("p"), batch_size=8, retry_attempts=2)
    poison = h.shard.put("r0", "r1", "r2", "p", "r4", "r5", "r6", "r7")[3]
    h.shard.put("r8", "r9")
    # WHEN it runs
    h.run(10)
    # THEN the batch is halved until "p" is alone, then "p" is tried 1 + 2 times, then given up, and the shard goes on
    assert h.function.calls == [
        ["r0", "r1", "r2", "p", "r4", "r5", "r6", "r7"],
        ["r0", "r1", "r2", "p"],
        ["r0", "r1"],
        ["r2", "p"],
        ["r2"],
        ["p"],
        ["p"],
        ["p"],
        ["r4", "r5", "r6", "r7"],
        ["r8", "r9"],
    ]
    # AND the on-failure destination got Lambda's record of that one-record batch
    (failure,) = h.failures
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"] == FUNCTION_ARN
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison.sequence_number
    assert (info["batchSize"], info["shardId"], info["streamArn"]) == (1, SHARD_ID, STREAM_ARN)
    assert h.consumer.stats.discarded_records == 1
    assert h.consumer.stats.bisections == 3


def test_without_bisection_the_whole_failing_batch_is_retried_then_given_up() -> None:
    h = harness(crash_on("p"), batch_size=10, retry_attempts=1, bisect_on_error=False)
    first, _, last = h.shard.put("r0", "p", "r2")
    h.run(3)
    h.shard.put("r3")
    h.run(3)
    assert h.function.calls == [["r0", "p", "r2"], ["r0", "p", "r2"], ["r3"]]
    (failure,) = h.failures
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        first.sequence_number,
        last.sequence_number,
        3,
    )


def test_a_record_reported_failed_past_its_retries_is_given_up_with_the_rest_of_its_batch() -> None:
    # GIVEN a function reporting "p" as a batch item failure every time, 2 retries
    h = harness(report_failures_of("p"), batch_size=10, retry_attempts=2)
    _, poison, after = h.shard.put("r0", "p", "r2")
    # WHEN it runs
    h.run(5)
    # THEN r0 is checkpointed, and the batch from "p" is retried twice, then given up (no function error)
    assert h.function.calls == [["r0", "p", "r2"], ["p", "r2"], ["p", "r2"]]
    (failure,) = h.failures
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (poison.sequence_number, after.sequence_number)
    assert "functionError" not in failure["responseContext"]


def test_records_older_than_the_maximum_age_go_to_the_destination_unread() -> None:
    h = harness(max_record_age_seconds=60)
    h.shard.put("old0", "old1")
    h.clock.now += 61
    h.run(2)
    h.shard.put("new")
    h.run(2)
    assert h.function.calls == [["new"]]
    (failure,) = h.failures
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["KinesisBatchInfo"]["batchSize"] == 2


def test_with_unlimited_retries_a_failing_record_holds_its_shard() -> None:
    h = harness(crash_on("p"), retry_attempts=-1, max_record_age_seconds=-1)
    h.shard.put("p", "r1")
    h.run(60)
    assert h.failures == []
    assert h.function.calls[0] == ["p", "r1"]
    assert all(call == ["p"] for call in h.function.calls[1:])
    assert len(h.function.calls) > 20


def test_an_idle_shard_is_polled_at_the_mappings_interval_and_says_when_it_was_last_found_idle() -> None:
    h = harness()
    assert h.consumer.step() == 1.0
    assert h.consumer.stats.idle_checked_at == h.clock.now


# --- chaos ---------------------------------------------------------------------------------------------------------


def test_chaos_duplicate_delivers_each_batch_twice() -> None:
    h = harness(chaos=ChaosSettings(duplicate=1.0), batch_size=2)
    h.shard.put("a", "b", "c")
    h.run(3)
    assert h.function.calls == [["a", "b"], ["a", "b"], ["c"], ["c"]]
    assert h.consumer.stats.chaos == {"duplicate": 2}


def test_chaos_failures_retry_every_record_until_it_is_done_without_using_up_retries() -> None:
    # GIVEN chaos failing most invocations, before the function runs or midway, and no retries at all
    chaos = ChaosSettings(fail_before=0.3, fail_midway=0.4, seed=7)
    h = harness(chaos=chaos, batch_size=8, retry_attempts=0)
    h.shard.put(*texts("r", 40))
    # WHEN it runs
    h.run(120)
    # THEN every record was done, none given up
    assert h.failures == []
    assert h.consumer.stats.done == 40
    assert set(h.function.delivered) == set(texts("r", 40))
    # AND midway failures delivered the first half of a batch only, then retried it
    assert h.consumer.stats.chaos["fail-midway"] > 0
    assert h.consumer.stats.chaos["fail-before"] > 0
    assert any(len(call) == 4 for call in h.function.calls)


def test_chaos_shuffle_reorders_a_batch_but_a_failure_checkpoints_in_shard_order() -> None:
    answers: list[Any] = []

    def answer(batch: list[dict[str, Any]]) -> Any:
        answers.append(batch)
        if len(answers) == 1:  # fail r3 and r1, wherever the shuffle put them
            failed = [r for r in batch if r["kinesis"]["data"] in ("cjM=", "cjE=")]
            return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in failed]}
        return None

    h = harness(answer, chaos=ChaosSettings(shuffle=1.0, seed=1), batch_size=10)
    h.shard.put(*texts("r", 5))
    h.run(3)
    first, second = h.function.calls
    assert first != texts("r", 5)
    assert sorted(first) == texts("r", 5)
    assert sorted(second) == texts("r", 4, 1)  # retried from r1, the lowest failed in shard order


def test_chaos_with_a_seed_draws_the_same_way_every_time() -> None:
    def calls() -> list[list[str]]:
        h = harness(chaos=ChaosSettings(duplicate=0.5, fail_midway=0.3, shuffle=0.5, seed=42), batch_size=3)
        h.shard.put(*texts("r", 12))
        h.run(30)
        return h.function.calls

    assert calls() == calls()


def test_function_errors_raised_while_invoking_count_as_failures() -> None:
    def answer(records: list[dict[str, Any]]) -> Any:
        raise FunctionError("Task timed out after 10.00 seconds")

    h = harness(answer, retry_attempts=0, bisect_on_error=False)
    h.shard.put("a")
    h.run(2)
    assert h.function.calls == [["a"]]
    assert h.failures[0]["requestContext"]["approximateInvokeCount"] == 1


def test_the_checkpoint_follows_each_finished_batch_and_filtered_records() -> None:
    # GIVEN a consumer that resumes after a checkpoint, with batches of 2 and a filter dropping "skip" records
    h = harness(batch_size=2, filters=[{"data": {"kind": ["keep"]}}], position="999")
    keep, skip = json.dumps({"kind": "keep"}), json.dumps({"kind": "skip"})
    _, _, skipped, last = h.shard.put(keep, keep, skip, keep)
    # WHEN it runs
    h.run(5)
    # THEN after the first batch the checkpoint is past the filtered record that follows it, then past the last one
    assert h.checkpoints == [skipped.sequence_number, last.sequence_number]
    assert h.consumer.stats.checkpoint == last.sequence_number
    # AND a shard holding filtered records only moves its checkpoint without an invocation
    (only_skipped,) = h.shard.put(skip)
    h.run(2)
    assert h.checkpoints[-1] == only_skipped.sequence_number
    assert len(h.function.calls) == 2


def test_the_checkpoint_never_passes_a_record_still_to_retry() -> None:
    # GIVEN a function failing the batch holding "p" twice, then succeeding
    failures = [2]

    def answer(records: list[dict[str, Any]]) -> Any:
        if failures[0] and any(data_of(r) == "p" for r in records):
            failures[0] -= 1
            failed = [r["kinesis"]["sequenceNumber"] for r in records if data_of(r) == "p"]
            return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
        return None

    h = harness(answer, batch_size=10, retry_attempts=5, position="999")
    r0, poison, r2 = h.shard.put("r0", "p", "r2")
    # WHEN it runs
    h.run(5)
    # THEN the checkpoint stops before "p" while it fails (past r0 only), and moves past r2 once it is done
    assert h.checkpoints == [r0.sequence_number, r2.sequence_number]
    assert poison.sequence_number not in h.checkpoints


def test_a_batch_given_up_moves_the_checkpoint_past_it() -> None:
    h = harness(crash_on("p"), batch_size=10, retry_attempts=0, bisect_on_error=False, position="999")
    _, last = h.shard.put("r0", "p")
    h.run(3)
    assert len(h.failures) == 1
    assert h.checkpoints == [last.sequence_number]


def data_of(record: dict[str, Any]) -> str:
    return base64.b64decode(record["kinesis"]["data"]).decode()
