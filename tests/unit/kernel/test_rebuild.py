"""The one rebuild loop: every projection that reads a type gets each of its streams, a page at a time, from one
read of that stream; a projection that needs no event costs no event read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryStateViews
from ledger.kernel.aggregate import RecordedEvent, Registry
from ledger.kernel.projections import StateProjection, rebuild
from ledger.kernel.records import EventRecord, StreamId
from ledger.kernel.repository import Repository
from ledger.kernel.service import CommandContext, CommandService
from tests.counter import COUNTER, Counter, CreateCounter, Increment
from tests.ledger_fixtures import SERVICE_SETTINGS

CTX = CommandContext("corr", "req")


class CountingStore(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.forward_reads = 0

    def read_forward(self, stream: StreamId, *, after: int, limit: int) -> list[EventRecord]:
        self.forward_reads += 1
        return super().read_forward(stream, after=after, limit=limit)


@dataclass
class Recording:
    """A projection that records the pages it is fed, per stream."""

    pages: dict[str, list[list[int]]] = field(default_factory=dict)
    resets: int = 0
    completed: int = 0

    @property
    def reads_events(self) -> bool:
        return True

    @property
    def partial_replay_days(self) -> int | None:
        return 0  # a test projection

    @property
    def aggregate_types(self) -> frozenset[str]:
        return frozenset({"Counter"})

    def reset(self) -> int:
        self.resets += 1
        return 0

    def replay(self, stream: StreamId) -> _RecordingReplay:
        return _RecordingReplay(self.pages.setdefault(stream.aggregate_id, []))

    def complete(self) -> int:
        self.completed += 1
        return 100


@dataclass
class _RecordingReplay:
    pages: list[list[int]]
    reads_events: bool = True

    def feed(self, page: Sequence[RecordedEvent[Any]]) -> None:
        self.pages.append([event.version for event in page])

    def finish(self) -> int:
        return sum(len(page) for page in self.pages)


def seeded() -> CountingStore:
    store = CountingStore()
    counters = CommandService(COUNTER, store, SERVICE_SETTINGS)
    counters.execute(CreateCounter("c-1"), CTX)
    for _ in range(4):
        counters.execute(Increment("c-1"), CTX)
    counters.execute(CreateCounter("c-2"), CTX)
    store.forward_reads = 0
    return store


def test_two_projections_share_one_paged_read_of_each_stream() -> None:
    store = seeded()
    first, second = Recording(), Recording()

    counts = rebuild({"first": first, "second": second}, store, Registry([COUNTER]), page_size=2)

    assert first.pages == second.pages == {"c-1": [[1, 2], [3, 4], [5]], "c-2": [[1]]}
    assert counts == {"first": 106, "second": 106}  # rows from each stream, then those completed after every stream
    assert (first.resets, second.resets, first.completed, second.completed) == (1, 1, 1, 1)
    assert store.forward_reads == 4  # each stream's pages, the last one short: no empty read to end it


def test_a_state_projection_alone_reads_no_event_page() -> None:
    store = seeded()
    views = InMemoryStateViews[Counter]()

    counts = rebuild(
        {"counters": StateProjection(Repository(COUNTER, store, page_size=100), views)}, store, Registry([COUNTER])
    )

    assert counts == {"counters": 2}
    assert store.forward_reads == 0
    assert views.rows["c-1"][0] == 5
