"""Chaos switches for the emulated event source mappings: what at-least-once delivery allows, made frequent.

Each switch is the fraction of batches it hits (0 to 1), per mapping and shard:
- `duplicate`: the batch is delivered twice (its first answer is lost, as when a checkpoint is not recorded);
- `fail_before`: the invocation fails before the function sees the batch (Lambda could not invoke it);
- `fail_midway`: the function is invoked with the first half of the batch only, then the invocation counts as failed:
  half of the side effects happened, and the whole batch is retried;
- `shuffle`: the batch's records reach the function in a random order.
`seed` makes it reproducible: the n-th invocation attempt of each mapping's shard meets the same chaos in every run
(which records a batch holds still depends on timing). Chaos failures go through the same bisection and retries as
real function errors but do not use up a record's retry quota, so a run with chaos on still delivers every good
record and converges.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Final, Literal, TypeVar

T = TypeVar("T")
Failure = Literal["before", "midway"]

ENVIRONMENT: Final = {
    "duplicate": "LOCAL_CHAOS_DUPLICATE",
    "fail_before": "LOCAL_CHAOS_FAIL_BEFORE",
    "fail_midway": "LOCAL_CHAOS_FAIL_MIDWAY",
    "shuffle": "LOCAL_CHAOS_SHUFFLE",
    "seed": "LOCAL_CHAOS_SEED",
}


@dataclass(frozen=True)
class ChaosSettings:
    duplicate: float = 0.0
    fail_before: float = 0.0
    fail_midway: float = 0.0
    shuffle: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("duplicate", "fail_before", "fail_midway", "shuffle"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"chaos {name.replace('_', '-')} must be a fraction from 0 to 1, not {value}")
        if self.fail_before + self.fail_midway > 1.0:
            raise ValueError("chaos fail-before and fail-midway add up to more than 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str], base: ChaosSettings | None = None) -> ChaosSettings:
        """`base` (all off by default) with the switches the environment sets: LOCAL_CHAOS_DUPLICATE, _FAIL_BEFORE,
        _FAIL_MIDWAY, _SHUFFLE (fractions) and LOCAL_CHAOS_SEED (an integer)."""
        values: dict[str, float | int | None] = vars(base or cls()).copy()
        for field in fields(cls):
            raw = env.get(ENVIRONMENT[field.name], "").strip()
            if raw:
                try:
                    values[field.name] = int(raw) if field.name == "seed" else float(raw)
                except ValueError:
                    raise ValueError(f"{ENVIRONMENT[field.name]} is not a number: {raw!r}") from None
        return cls(**values)  # type: ignore[arg-type]

    @property
    def enabled(self) -> bool:
        return any((self.duplicate, self.fail_before, self.fail_midway, self.shuffle))

    def dice(self, name: str) -> ChaosDice:
        """The draws of one mapping's shard, seeded from `seed` and `name` when a seed is set."""
        if self.seed is None:
            return ChaosDice(self, random.Random(), random.Random())  # noqa: S311
        return ChaosDice(self, random.Random(f"{self.seed}:{name}"), random.Random(f"{self.seed}:{name}:order"))  # noqa: S311


@dataclass(frozen=True)
class Plan:
    """What chaos does to one invocation attempt."""

    order: list[int] | None = None  # the batch's records in this order (indexes), or as they are
    failure: Failure | None = None
    duplicate: bool = False  # deliver again once the first delivery answered (not after a failure)

    def apply_order(self, items: Sequence[T]) -> list[T]:
        return list(items) if self.order is None else [items[index] for index in self.order]


class ChaosDice:
    """Each invocation attempt's plan. Every plan takes the same three draws whatever the batch (permutations come
    from a second generator), so with a seed the n-th attempt of a mapping's shard meets the same chaos in every run,
    however the records were batched."""

    def __init__(self, settings: ChaosSettings, decisions: random.Random, orders: random.Random) -> None:
        self.settings = settings
        self._decisions = decisions
        self._orders = orders

    def plan(self, size: int) -> Plan:
        """The chaos of an attempt with `size` records."""
        settings = self.settings
        if not settings.enabled:
            return Plan()
        shuffle, failure, duplicate = (self._decisions.random() for _ in range(3))
        order = None
        if shuffle < settings.shuffle and size > 1:
            order = list(range(size))
            while order == sorted(order):  # a "shuffle" that changes nothing would hide nothing
                self._orders.shuffle(order)
        failed: Failure | None = None
        if failure < settings.fail_before:
            failed = "before"
        elif failure < settings.fail_before + settings.fail_midway:
            failed = "midway"
        return Plan(order=order, failure=failed, duplicate=duplicate < settings.duplicate)
