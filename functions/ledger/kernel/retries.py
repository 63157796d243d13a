"""When a command whose conditional append lost the race tries again, and when it gives up.

A retry decides again on a newer state (the state of the event that won the race, which the store returns with the
refusal, or a fresh load) and appends under the same condition as the first try: the next version must be free. So
retrying never changes what a command means, only how long a client waits for it. The policy answers "how long to
pause before the next try, or stop?":

- the retry budget is the time by which a command answers: no try starts that would, with its pause and at the pace
  of the slowest try so far, end later than `budget` after the command started. So the function answers (409
  `concurrency_conflict` at worst) before its timeout, however slow the store is being;
- a command that does not commute also stops after `max_attempts` tries: another writer keeps changing what it
  decides on, and after a few rounds the client hears it;
- a command its aggregate declares commuting (`Aggregate.commuting`, e.g. a deposit) has only the budget: the order
  in which commuting writes land changes nothing that a client would decide otherwise, so a lost race is never
  worth a 409, and it tries again until the budget is spent. Without a budget (`None`) it stops after
  `max_attempts` like the others.

Pauses are full jitter (uniform between 0 and a cap doubling from 20 ms to at most 200 ms), so writers that lost
the same round spread out instead of colliding again, and a hot stream takes a bounded rate of tries (30 writers
pausing 100 ms on average, each pause followed by a load-and-append try and at most one more try at once on the
winner's state: a few hundred conditional puts a second, below a DynamoDB partition's 1,000 writes a second). The
policy is pure: the service passes it the times, and tests drive it with a fake clock and a chosen jitter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


def full_jitter(cap: float) -> float:
    """A pause between 0 and `cap` seconds, uniformly."""
    return random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # tries a command that does not commute may take
    budget: timedelta | None  # how long after its start a command answers, at the latest (None: no limit in time)
    first_cap: float = 0.02  # seconds: the cap of the pause after the first lost race
    max_cap: float = 0.2  # seconds: the cap stops doubling there

    def cap(self, lost: int) -> float:
        """The longest pause after `lost` tries lost their race (20, 40, 80, 160, 200, 200... ms)."""
        return min(self.max_cap, self.first_cap * 2.0 ** (lost - 1))

    def pause(
        self,
        lost: int,
        elapsed: float,
        *,
        commutes: bool,
        longest_try: float = 0.0,
        jitter: Callable[[float], float] = full_jitter,
    ) -> float | None:
        """Seconds to pause before the next try, after `lost` (>= 1) tries lost their race, `elapsed` seconds since
        the command started, the slowest of its tries having taken `longest_try`; None: give up."""
        if lost >= self.max_attempts and not (commutes and self.budget is not None):
            return None
        pause = jitter(self.cap(lost))
        if self.budget is not None and elapsed + pause + longest_try > self.budget.total_seconds():
            return None
        return pause
