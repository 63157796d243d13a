"""The reads of any declared aggregate: its state now, at a version or at an instant, and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ledger.kernel.errors import VersionNotFoundError
from ledger.kernel.instants import to_iso_ms
from ledger.kernel.records import EventRecord
from ledger.kernel.repository import Repository

S = TypeVar("S")


@dataclass(frozen=True)
class Versioned(Generic[S]):
    state: S
    version: int


class Reader(Generic[S]):
    def __init__(self, repository: Repository[S]) -> None:
        self.repository = repository
        self.aggregate = repository.aggregate
        self.store = repository.store

    def get(self, aggregate_id: str, *, version: int | None = None, as_of: datetime | None = None) -> S:
        """Current state, or the state at `version` or at instant `as_of` (temporal query)."""
        return self.read(aggregate_id, version=version, as_of=as_of).state

    def find(self, aggregate_id: str) -> S | None:
        """The current state, or None when the aggregate does not exist."""
        return self.repository.load(aggregate_id).state

    def read(self, aggregate_id: str, *, version: int | None = None, as_of: datetime | None = None) -> Versioned[S]:
        """Like `get`, with the version the state is at. Raises the aggregate's not-found error when it has no state
        (then), and VersionNotFoundError for a version past its newest."""
        if as_of is not None:
            version = self.store.version_at(self.repository.stream(aggregate_id), to_iso_ms(as_of))
            if version is None:
                raise self.aggregate.not_found_error(aggregate_id, f"did not exist at {to_iso_ms(as_of)}")
        loaded = self.repository.load(aggregate_id, to_version=version)
        state = loaded.state
        if state is None:
            raise self.aggregate.not_found_error(aggregate_id)
        if version is not None and loaded.version != version:
            raise VersionNotFoundError(
                f"{self.aggregate.type} {aggregate_id!r} has no version {version}; it is at {loaded.version}."
            )
        return Versioned(state, loaded.version)

    def history(self, aggregate_id: str, *, after: int, limit: int) -> tuple[list[EventRecord], int | None]:
        """Up to `limit` events after version `after` in the current schema, and the cursor of the next page."""
        records = self.store.read_forward(self.repository.stream(aggregate_id), after=after, limit=limit + 1)
        if not records and not self.exists(aggregate_id):
            raise self.aggregate.not_found_error(aggregate_id)
        page = [self.aggregate.events.upcast_record(record) for record in records[:limit]]
        return page, (page[-1].version if len(records) > limit else None)

    def exists(self, aggregate_id: str) -> bool:
        return next(self.store.read_backward(self.repository.stream(aggregate_id), page_size=1), None) is not None
