"""cProfile summaries for a figure that misses its target: where the time goes, in one line.

`own_code` leaves the AWS client calls out (the profiler pauses from a call's entry to its parsed response), so what
remains is our code and the standard library it calls; `everything` keeps them in (moto's work included).
"""

from __future__ import annotations

import cProfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_EVENTS = ("provide-client-params.dynamodb", "after-call.dynamodb")


def everything(work: Callable[[], None]) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    return profiler


def own_code(client: DynamoDBClient, work: Callable[[], None]) -> cProfile.Profile:
    profiler = cProfile.Profile()

    def pause(**_: Any) -> None:
        profiler.disable()

    def resume(**_: Any) -> None:
        profiler.enable()

    events = client.meta.events
    events.register(_EVENTS[0], pause)
    events.register(_EVENTS[1], resume)
    try:
        profiler.runcall(work)
    finally:
        events.unregister(_EVENTS[0], pause)
        events.unregister(_EVENTS[1], resume)
    return profiler


def hot_spots(profiler: cProfile.Profile, *, cumulative: bool = False, top: int = 5, trunk: float = 0.8) -> str:
    """The `top` functions by self time (or cumulative time, leaving out the trunk: the callers that hold more than
    `trunk` of the total), as shares of the total self time."""
    profiler.create_stats()
    times = {label: (float(entry[2]), float(entry[3])) for label, entry in profiler.stats.items()}  # self, cumulative
    total = sum(own for own, _ in times.values()) or 1.0
    ranked = sorted(
        (
            (label, both[1] if cumulative else both[0])
            for label, both in times.items()
            if not cumulative or both[1] <= trunk * total
        ),
        key=lambda pair: pair[1],
        reverse=True,
    )[:top]
    return "; ".join(f"{_where(*label)} {seconds / total:.0%}" for label, seconds in ranked)


def cumulative_share(profiler: cProfile.Profile, name: str) -> float:
    """The share of the total time spent in the functions called `name` and what they call."""
    profiler.create_stats()
    total = sum(float(entry[2]) for entry in profiler.stats.values()) or 1.0
    return sum(float(entry[3]) for label, entry in profiler.stats.items() if label[2] == name) / total


def _where(filename: str, line: int, name: str) -> str:
    if "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    elif "/functions/" in filename:
        filename = filename.split("/functions/", 1)[1]
    elif "/lib/python" in filename:  # the standard library: lib/python3.11/typing.py -> typing.py
        filename = filename.split("/lib/python", 1)[1].partition("/")[2]
    return f"{filename}:{line} {name}" if line else name
