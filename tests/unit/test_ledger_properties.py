"""Properties over random command sequences: the balance never goes negative, snapshots never change a state."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.domain.accounts import CloseAccount, Command, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.errors import DomainError
from ledger.kernel.service import CommandContext
from tests.ledger_fixtures import AccountService, account_service

commands = st.lists(
    st.one_of(
        st.builds(DepositMoney, st.just("acc-1"), st.integers(min_value=-5, max_value=5_000)),
        st.builds(WithdrawMoney, st.just("acc-1"), st.integers(min_value=-5, max_value=5_000)),
        st.just(CloseAccount("acc-1")),
    ),
    max_size=60,
)


def apply_all(service: AccountService, initial: int, sequence: list[Command]) -> int:
    """Run the commands, ignoring refusals; returns the balance the accepted ones should add up to."""
    service.execute(OpenAccount("acc-1", "Ann", "USD", initial), CommandContext("c", "r"))
    expected = initial
    for command in sequence:
        try:
            service.execute(command, CommandContext("c", "r"))
        except DomainError:
            continue
        if isinstance(command, DepositMoney):
            expected += command.amount
        elif isinstance(command, WithdrawMoney):
            expected -= command.amount
    return expected


@settings(max_examples=150, deadline=None)
@given(initial=st.integers(min_value=0, max_value=10_000), sequence=commands, interval=st.integers(1, 7))
def test_any_sequence_keeps_a_non_negative_balance_equal_to_its_accepted_movements(
    initial: int, sequence: list[Command], interval: int
) -> None:
    snapshotting = account_service(InMemoryEventStore(), snapshot_interval=interval)
    expected = apply_all(snapshotting, initial, sequence)
    state = snapshotting.reader.get("acc-1")
    assert state.balance == expected >= 0

    history, _ = snapshotting.reader.history("acc-1", after=0, limit=1000)
    assert [event.version for event in history] == list(range(1, state.version + 1))
    for version in range(1, state.version + 1):  # every past state, with or without snapshots, agrees
        events_only = InMemoryEventStore()  # the bare events, without the state each one carries: a pure fold
        for record in history[:version]:
            events_only.put_raw_event(replace(record, state=None, state_schema_version=None))
        folded = account_service(events_only).reader.get("acc-1")
        assert snapshotting.reader.get("acc-1", version=version) == folded
