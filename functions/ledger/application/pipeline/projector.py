"""The accounts read model: every stored event carries the account's state right after it, so a row is replaced by
the state of a newer version and left alone by an older or repeated one. Order, duplicates and gaps do not matter:
the state at version V already folds every event up to V. An event whose state cannot be read is folded from the
event store up to its version instead."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.application.account_codec import decode_state
from ledger.application.account_repository import AccountRepository
from ledger.application.ports import AccountViews
from ledger.application.records import EventRecord
from ledger.domain.accounts import AGGREGATE_TYPE, Account


@dataclass
class AccountProjector:
    views: AccountViews
    repository: AccountRepository

    def apply(self, record: EventRecord) -> bool | None:
        """True: the row moved to this version; False: it already had it or a later one; None: not an account."""
        if record.aggregate_type != AGGREGATE_TYPE:
            return None
        return self.views.put_if_newer(self.state_at(record))

    def state_at(self, record: EventRecord) -> Account:
        state = None
        if record.state is not None and record.state_schema_version is not None:
            state = decode_state(record.state_schema_version, record.state)
        if state is None or state.version != record.version:
            state = self.repository.load(record.aggregate_id, to_version=record.version).state
        if state is None:
            raise LookupError(f"{record.aggregate_id} v{record.version} is on the stream but not in the store")
        return state
