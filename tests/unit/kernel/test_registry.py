"""The registry of aggregates: declared by where they live, loaded when first asked for, checked when loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger.catalog import AGGREGATES
from ledger.kernel.aggregate import Aggregate, Declared, Registry, UnknownAggregateTypeError
from ledger.kernel.records import EventRecord


def test_every_aggregate_in_the_catalog_loads_as_declared() -> None:
    # GIVEN the catalog WHEN every aggregate is loaded THEN each is an Aggregate of the type (and bare-keys flag) its
    # entry states: a wrong entry fails here, not in a function's first request
    loaded = list(AGGREGATES)
    assert [a.type for a in loaded] == list(AGGREGATES.types)
    assert all(isinstance(a, Aggregate) for a in loaded)
    assert AGGREGATES.bare_stream_key_types == {a.type for a in loaded if a.bare_stream_keys} == {"Account"}


def test_a_process_that_meets_one_type_loads_that_aggregate_alone() -> None:
    # GIVEN a fresh process (no domain imported) WHEN it decodes an account event through the catalog THEN the
    # accounts' domain is loaded and the orders', stock's and shipments' are not; their types are still known
    statement = (
        "import sys; from ledger.catalog import AGGREGATES; from ledger.kernel.records import EventRecord\n"
        "r = EventRecord(aggregate_id='a-1', aggregate_type='Account', version=1, event_type='AccountCreated',"
        " data={'account_id': 'a-1', 'owner': 'Ann', 'currency': 'USD', 'initial_balance': 0},"
        " event_id='e-1', occurred_at='2026-12-01T00:00:00.000Z', schema_version=2, metadata={})\n"
        "assert AGGREGATES.decode(r) is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('ledger.domain.')))\n"
        "print(AGGREGATES.types)"
    )
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, check=True)
    domains, types = result.stdout.splitlines()
    assert "ledger.domain.accounts" in domains
    for other in ("orders", "stock", "shipments", "customers", "heartbeats"):
        assert f"ledger.domain.{other}'" not in domains
    assert types == "('Account', 'Order', 'Stock', 'Shipment', 'Customer', 'Heartbeat')"


def test_an_entry_that_names_another_type_is_refused_when_loaded() -> None:
    registry = Registry([Declared("Wallet", "ledger.application.accounts:ACCOUNT")])
    with pytest.raises(ValueError, match=r"declares type 'Account' .* not 'Wallet'"):
        registry["Wallet"]


def test_an_entry_with_the_wrong_bare_keys_flag_is_refused_when_loaded() -> None:
    registry = Registry([Declared("Account", "ledger.application.accounts:ACCOUNT")])
    with pytest.raises(ValueError, match="bare stream keys"):
        registry["Account"]


def test_an_undeclared_type_is_unknown_and_its_records_are_skipped() -> None:
    registry = Registry([Declared("Order", "ledger.application.orders:ORDER")])
    with pytest.raises(UnknownAggregateTypeError):
        registry["Account"]
    record = EventRecord(
        aggregate_id="a-1",
        aggregate_type="Account",
        version=1,
        event_type="AccountCreated",
        data={},
        event_id="e-1",
        occurred_at="2026-12-01T00:00:00.000Z",
        schema_version=1,
        metadata={},
    )
    assert registry.decode(record) is None


def test_two_entries_of_one_type_or_two_bare_types_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Registry([Declared("Order", "x:Y"), Declared("Order", "x:Z")])
    with pytest.raises(ValueError, match="only one aggregate type may keep bare stream keys"):
        Registry([Declared("Order", "x:Y", bare_stream_keys=True), Declared("Stock", "x:Z", bare_stream_keys=True)])
