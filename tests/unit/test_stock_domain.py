"""Stock per sku: reservations, backorders filled oldest first, releases and shipments; the invariants hold after
any sequence, through the kernel's service (so the stored state, nested allocations included, round-trips too)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.application.stock import STOCK
from ledger.domain.errors import DomainError
from ledger.domain.stock import (
    BackorderDropped,
    BackorderFilled,
    Release,
    ReservationReleased,
    Reserve,
    Restock,
    ShipReservation,
    Stock,
    StockBackordered,
    StockCommand,
    StockNotFoundError,
    StockReceived,
    StockReserved,
    StockShipped,
    decide,
    evolve,
)
from ledger.kernel.service import CommandContext, CommandService
from tests.ledger_fixtures import service_settings

CTX = CommandContext("corr", "req")


def given_events(*events: object) -> Stock | None:
    state = None
    for version, event in enumerate(events, start=1):
        state = evolve(state, event, version, "2026-12-01T09:00:00.000Z")  # type: ignore[arg-type]
    return state


def test_a_reservation_takes_what_is_there_and_backorders_the_rest() -> None:
    stock = given_events(StockReceived("sku-a", 3))
    assert decide(stock, Reserve("sku-a", "o-1", 1, 5)) == [
        StockReserved("sku-a", "o-1", 1, 3),
        StockBackordered("sku-a", "o-1", 1, 2),
    ]


def test_an_unknown_sku_backorders_everything_and_the_same_line_is_not_reserved_twice() -> None:
    assert decide(None, Reserve("sku-a", "o-1", 1, 2)) == [StockBackordered("sku-a", "o-1", 1, 2)]
    stock = given_events(StockBackordered("sku-a", "o-1", 1, 2))
    assert decide(stock, Reserve("sku-a", "o-1", 1, 2)) == []


def test_a_restock_fills_backorders_oldest_first() -> None:
    stock = given_events(StockBackordered("sku-a", "o-1", 1, 2), StockBackordered("sku-a", "o-2", 1, 2))
    assert decide(stock, Restock("sku-a", 3)) == [
        StockReceived("sku-a", 3),
        BackorderFilled("sku-a", "o-1", 1, 2),
        BackorderFilled("sku-a", "o-2", 1, 1),
    ]


def test_a_release_returns_stock_drops_backorders_and_serves_the_next_in_line() -> None:
    stock = given_events(
        StockReceived("sku-a", 2),
        StockReserved("sku-a", "o-1", 1, 2),
        StockBackordered("sku-a", "o-1", 2, 1),
        StockBackordered("sku-a", "o-2", 1, 3),
    )
    assert decide(stock, Release("sku-a", "o-1")) == [
        ReservationReleased("sku-a", "o-1", 1, 2),
        BackorderDropped("sku-a", "o-1", 2, 1),
        BackorderFilled("sku-a", "o-2", 1, 2),
    ]


def test_shipping_takes_the_reserved_stock_off_hand() -> None:
    stock = given_events(StockReceived("sku-a", 5), StockReserved("sku-a", "o-1", 1, 2))
    events = decide(stock, ShipReservation("sku-a", "o-1"))
    assert events == [StockShipped("sku-a", "o-1", 1, 2)]
    shipped = given_events(StockReceived("sku-a", 5), StockReserved("sku-a", "o-1", 1, 2), *events)
    assert shipped is not None
    assert (shipped.on_hand, shipped.reserved, shipped.shipped, shipped.available) == (3, 0, 2, 3)


def test_a_release_decided_on_a_stale_cache_still_releases_what_another_process_reserved() -> None:
    # GIVEN two inventory processes (two warm Lambdas) that both cached the sku before an order reserved on it
    store = InMemoryEventStore()
    first, second = (CommandService(STOCK, store, service_settings()) for _ in range(2))
    first.execute(Restock("sku-a", 5), CTX)
    cached = first.cache.get("sku-a")
    assert cached is not None
    second.cache.put("sku-a", cached)
    first.execute(Reserve("sku-a", "o-1", 1, 2), CTX)
    # WHEN the other process releases the order: on its stale state the release finds nothing to release
    outcome = second.execute(Release("sku-a", "o-1"), CTX)
    # THEN the no-op was not trusted: decided again on a fresh load, the reservation is released
    assert (outcome.version, outcome.state.reserved, outcome.state.reservations) == (3, 0, ())
    assert second.reader.get("sku-a").reserved == 0


ORDERS = ["o-1", "o-2", "o-3", "o-4"]
commands = st.lists(
    st.one_of(
        st.builds(Restock, st.just("sku-a"), st.integers(min_value=1, max_value=6)),
        st.builds(Reserve, st.just("sku-a"), st.sampled_from(ORDERS), st.integers(1, 2), st.integers(1, 5)),
        st.builds(Release, st.just("sku-a"), st.sampled_from(ORDERS)),
        st.builds(ShipReservation, st.just("sku-a"), st.sampled_from(ORDERS)),
    ),
    max_size=40,
)


def check_invariants(stock: Stock) -> None:
    assert stock.received == stock.on_hand + stock.shipped
    assert stock.reserved == sum(a.quantity for a in stock.reservations)
    assert stock.backordered == sum(a.quantity for a in stock.backorders)
    assert 0 <= stock.reserved <= stock.on_hand
    assert stock.available == 0 or not stock.backorders  # nothing waits while stock is free
    lines = [(a.order_id, a.line) for a in stock.reservations]
    assert len(lines) == len(set(lines))
    assert all(a.quantity > 0 for a in (*stock.reservations, *stock.backorders))


@settings(max_examples=150, deadline=None)
@given(sequence=commands, interval=st.integers(1, 5))
def test_any_sequence_keeps_the_stock_invariants(sequence: list[StockCommand], interval: int) -> None:
    service = CommandService(STOCK, InMemoryEventStore(), service_settings(snapshot_interval=interval))
    requested: dict[tuple[str, int], int] = {}
    version = 0
    for command in sequence:
        try:
            outcome = service.execute(command, CTX)
        except StockNotFoundError:
            continue
        except DomainError as refused:  # pragma: no cover - nothing else may be refused
            raise AssertionError(refused) from refused
        check_invariants(outcome.state)
        if isinstance(command, Reserve) and outcome.version > version:  # a line held already records nothing
            key = (command.order_id, command.line)
            requested[key] = requested.get(key, 0) + command.quantity
        version = outcome.version
    if not requested:
        return
    stock = service.reader.get("sku-a")
    check_invariants(stock)
    history, _ = service.reader.history("sku-a", after=0, limit=10_000)
    # Every line's request is accounted for: reserved + backordered + shipped + released + dropped.
    moved: dict[tuple[str, int], int] = {}
    for record in history:
        if record.event_type in ("StockReserved", "StockBackordered"):
            key = (record.data["order_id"], record.data["line"])
            moved[key] = moved.get(key, 0) + record.data["quantity"]
    assert moved == requested
