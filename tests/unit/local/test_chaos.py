"""The chaos switches: their settings from the environment and the command line, and their draws."""

from __future__ import annotations

import pytest

from local.__main__ import CHAOS_PRESET, parse_args
from local.chaos import ChaosSettings, Plan


def test_settings_from_the_environment() -> None:
    env = {"LOCAL_CHAOS_DUPLICATE": "0.25", "LOCAL_CHAOS_SHUFFLE": "1", "LOCAL_CHAOS_SEED": "9"}
    assert ChaosSettings.from_env(env) == ChaosSettings(duplicate=0.25, shuffle=1.0, seed=9)
    assert not ChaosSettings.from_env({}).enabled


@pytest.mark.parametrize(
    "env",
    [{"LOCAL_CHAOS_DUPLICATE": "lots"}, {"LOCAL_CHAOS_SHUFFLE": "1.5"}, {"LOCAL_CHAOS_SEED": "0.5"}],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"LOCAL_CHAOS|chaos"):
        ChaosSettings.from_env(env)


def test_failures_cannot_add_up_to_more_than_every_batch() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        ChaosSettings(fail_before=0.6, fail_midway=0.6)


def test_the_chaos_flag_turns_every_switch_on_and_single_flags_override_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOCAL_CHAOS", "LOCAL_CHAOS_DUPLICATE", "LOCAL_CHAOS_SEED", "LOCAL_CHAOS_SHUFFLE"):
        monkeypatch.delenv(name, raising=False)
    assert parse_args([]).chaos == ChaosSettings()
    assert parse_args(["--chaos"]).chaos == CHAOS_PRESET
    options = parse_args(["--chaos", "--chaos-duplicate", "0.5", "--chaos-seed", "3"])
    assert (options.chaos.duplicate, options.chaos.seed, options.chaos.shuffle) == (0.5, 3, CHAOS_PRESET.shuffle)


def test_the_environment_sets_switches_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_CHAOS_SHUFFLE", "0.75")
    monkeypatch.setenv("LOCAL_CHAOS_SEED", "11")
    options = parse_args(["--chaos-seed", "12"])
    assert (options.chaos.shuffle, options.chaos.seed, options.chaos.duplicate) == (0.75, 12, 0.0)
    monkeypatch.setenv("LOCAL_CHAOS", "1")
    monkeypatch.setenv("LOCAL_CHAOS_DUPLICATE", "0")  # off, where the preset had it on
    assert parse_args([]).chaos == ChaosSettings(
        duplicate=0.0, fail_before=CHAOS_PRESET.fail_before, fail_midway=CHAOS_PRESET.fail_midway, shuffle=0.75, seed=11
    )


def test_a_bad_flag_stops_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--chaos-fail-before", "2"])


def test_seeded_plans_repeat_per_name_and_differ_between_names() -> None:
    settings = ChaosSettings(duplicate=0.5, fail_before=0.2, fail_midway=0.2, shuffle=0.5, seed=5)

    def plans(name: str) -> list[Plan]:
        dice = settings.dice(name)
        return [dice.plan(3) for _ in range(50)]

    assert plans("a") == plans("a")
    assert plans("a") != plans("b")


def test_the_nth_attempt_meets_the_same_chaos_whatever_the_batch_sizes() -> None:
    settings = ChaosSettings(duplicate=0.5, fail_before=0.2, fail_midway=0.2, shuffle=0.5, seed=5)
    small, large = settings.dice("a"), settings.dice("a")
    for size in (1, 7, 2, 30, 1, 5):
        one, other = small.plan(1), large.plan(size)
        assert (one.failure, one.duplicate) == (other.failure, other.duplicate)


def test_a_shuffle_always_changes_the_order() -> None:
    dice = ChaosSettings(shuffle=1.0, seed=1).dice("x")
    for _ in range(100):
        plan = dice.plan(2)
        assert plan.order == [1, 0]
        assert plan.apply_order(["a", "b"]) == ["b", "a"]
    assert dice.plan(1).order is None


def test_switches_off_plan_nothing() -> None:
    assert ChaosSettings().dice("x").plan(3) == Plan()
