"""Timing one operation at a time: a perf_counter around it, with the garbage collector out of the way."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def timed(work: Callable[[], object]) -> float:
    """The seconds `work()` took."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector paused, as timeit does, after a collection: a full collection walks moto's whole heap
    (every table's items and stream records; about 0.1 s here) and would land on whichever operation runs then.
    Within a block that paused it already, nothing more (the outer block collects and resumes)."""
    if not gc.isenabled():
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
