"""Loading accounts from the event store (newest state, snapshot, or replay), and a per-process cache of them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ledger.application.account_codec import ACCOUNT_EVENTS, decode_state
from ledger.application.errors import ForeignStreamError
from ledger.application.ports import EventStore
from ledger.application.records import EventRecord, SnapshotRecord
from ledger.domain.accounts import AGGREGATE_TYPE, Account, evolve


@dataclass(frozen=True)
class Loaded:
    state: Account | None  # None: the account has no history
    replayed: int  # events folded on top of the stored state the load started from (0: that state was current)
    last_occurred_at: str | None


class AccountRepository:
    def __init__(self, store: EventStore, *, page_size: int = 100) -> None:
        self.store = store
        self.page_size = page_size

    def load(self, account_id: str, *, to_version: int | None = None) -> Loaded:
        """The state at `to_version` (default: the newest): the newest decodable stored state at or below it (on
        an event, or a snapshot) plus the events after it, folded.

        Usually one item: the newest event carries the state after it. When that state does not decode (its
        schema changed), the load reads back, `page_size` items a call, to a state or snapshot that does, or to
        the first event. Raises ForeignStreamError when the id names another aggregate type's stream.
        """
        tail: list[EventRecord] = []
        state: Account | None = None
        for item in self.store.read_backward(account_id, to_version=to_version, page_size=self.page_size):
            if item.aggregate_type != AGGREGATE_TYPE:
                raise ForeignStreamError(f"{account_id!r} is a {item.aggregate_type} stream")
            state = _stored_state(item)
            if state is not None:
                break
            if isinstance(item, EventRecord):
                tail.append(item)
        last_occurred_at = state.updated_at if state else None
        for record in reversed(tail):
            state = evolve(state, ACCOUNT_EVENTS.decode(record), record.version, record.occurred_at)
            last_occurred_at = record.occurred_at
        return Loaded(state, len(tail), last_occurred_at)


def _stored_state(item: EventRecord | SnapshotRecord) -> Account | None:
    if isinstance(item, SnapshotRecord):
        return decode_state(item.schema_version, item.state)
    if item.state is None or item.state_schema_version is None:
        return None
    return decode_state(item.state_schema_version, item.state)


class StateCache:
    """The last state this process wrote or loaded per account (least recently used evicted first).

    A command may decide on a cached state without reading: the append is conditional on the next version being
    free, so a stale entry can only make it fail (then the command reloads), never write on a wrong base. A
    refusal decided on a cached state is checked again on a fresh load before it is answered.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, account_id: str) -> Loaded | None:
        with self._lock:
            entry = self._entries.get(account_id)
            if entry is not None:
                self._entries.move_to_end(account_id)
            return entry

    def put(self, account_id: str, loaded: Loaded) -> None:
        if self._size <= 0 or loaded.state is None:
            return
        with self._lock:
            self._entries[account_id] = loaded
            self._entries.move_to_end(account_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, account_id: str) -> None:
        with self._lock:
            self._entries.pop(account_id, None)
