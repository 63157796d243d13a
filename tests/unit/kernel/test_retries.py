"""The retry policy: how long a command whose append lost the race pauses before its next fresh load, and when it
gives up. Pure: elapsed times are given, jitter is a function the test chooses."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from infra.topology import TOPOLOGY
from ledger.kernel.retries import RetryPolicy, full_jitter
from tests.counter import COUNTER, CreateCounter, Decrement, Increment

POLICY = RetryPolicy(max_attempts=5, budget=timedelta(seconds=5))


def longest(cap: float) -> float:
    return cap


def test_pauses_are_capped_at_20_ms_doubling_up_to_200_ms() -> None:
    caps = [POLICY.cap(lost) for lost in range(1, 8)]
    assert caps == pytest.approx([0.02, 0.04, 0.08, 0.16, 0.2, 0.2, 0.2])


def test_a_pause_is_jittered_between_zero_and_its_cap() -> None:
    pauses = [POLICY.pause(3, 0.0, commutes=False) for _ in range(200)]
    assert all(pause is not None and 0 <= pause <= 0.08 for pause in pauses)
    assert len(set(pauses)) > 1
    assert all(0 <= full_jitter(0.2) <= 0.2 for _ in range(200))


def test_a_command_that_does_not_commute_gives_up_after_max_attempts_fresh_loads() -> None:
    # GIVEN a command that does not commute, with time to spare
    # WHEN its fresh loads keep losing
    pauses = [POLICY.pause(lost, 0.1, commutes=False, jitter=longest) for lost in range(1, 7)]
    # THEN it pauses between its 5 fresh loads (4 pauses), then gives up
    assert pauses == pytest.approx([0.02, 0.04, 0.08, 0.16, None, None])


def test_a_commuting_command_keeps_trying_past_max_attempts_while_the_budget_lasts() -> None:
    # GIVEN a commuting command that has lost 40 races in 3 s
    # WHEN it asks whether to try again, THEN it pauses at most the cap
    assert POLICY.pause(40, 3.0, commutes=True, jitter=longest) == pytest.approx(0.2)


def test_no_retry_starts_past_the_budget() -> None:
    # A pause that would end past the budget is not taken, commuting or not, however few the losses.
    assert POLICY.pause(40, 4.79, commutes=True, jitter=longest) == pytest.approx(0.2)
    assert POLICY.pause(40, 4.81, commutes=True, jitter=longest) is None
    assert POLICY.pause(1, 4.99, commutes=False, jitter=longest) is None
    assert POLICY.pause(1, 4.99, commutes=True, jitter=lambda cap: 0.0) == 0.0  # a pause of 0 still fits


def test_no_retry_starts_that_would_end_past_the_budget_at_the_pace_of_the_slowest_try() -> None:
    # GIVEN a command whose slowest try took 1.5 s, 3.3 s into its budget of 5 s
    # WHEN it lost again, THEN it tries again only while pause and such a try still end within the budget
    assert POLICY.pause(40, 3.3, commutes=True, longest_try=1.5, jitter=longest) == pytest.approx(0.2)
    assert POLICY.pause(40, 3.31, commutes=True, longest_try=1.5, jitter=longest) is None
    assert POLICY.pause(2, 3.47, commutes=False, longest_try=1.5, jitter=longest) is None


def test_without_a_budget_a_commuting_command_stops_after_max_attempts_like_the_others() -> None:
    unbounded = RetryPolicy(max_attempts=3, budget=None)
    assert unbounded.pause(2, 3600.0, commutes=True, jitter=longest) == pytest.approx(0.04)
    assert unbounded.pause(3, 0.0, commutes=True, jitter=longest) is None


def test_a_commuting_command_tries_until_the_budget_is_spent_then_gives_up() -> None:
    # GIVEN a commuting command whose every fresh load loses, each taking 30 ms, on a clock the test keeps
    elapsed, lost, pauses = 0.0, 0, []
    while True:
        elapsed += 0.03  # the fresh load and its append
        lost += 1
        pause = POLICY.pause(lost, elapsed, commutes=True, jitter=longest)
        if pause is None:
            break
        pauses.append(pause)
        elapsed += pause
    # THEN it tried far more than max_attempts times, and gave up only when the next pause would pass the budget
    assert lost > 2 * POLICY.max_attempts
    assert elapsed <= 5.0
    assert elapsed + POLICY.cap(lost) > 5.0
    assert max(pauses) == pytest.approx(0.2)


def test_the_topology_budget_leaves_the_command_function_time_to_answer() -> None:
    # The budget is when a command answers as far as its slowest try so far predicts: the timeout must leave room
    # for a try slower than that (a DynamoDB call the SDK retries) and for the answer.
    budget_ms = int(TOPOLOGY.environment["COMMAND_RETRY_BUDGET_MS"])
    (commands,) = (function for function in TOPOLOGY.functions if function.id == "commands")
    assert 0 < budget_ms <= commands.timeout_seconds * 1000 - 2_000


def test_the_declaration_says_which_commands_commute_and_refuses_a_creation_among_them() -> None:
    assert COUNTER.commutes(Increment("c-1"))
    assert not COUNTER.commutes(Decrement("c-1"))
    with pytest.raises(ValueError, match="a creation command cannot commute"):
        replace(COUNTER, commuting=(Increment, CreateCounter))
