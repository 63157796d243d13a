"""The publisher routes each aggregate type's events to the stream the topology assigns it, as public messages, and
never drops one it cannot route."""

from __future__ import annotations

import json

import pytest

from infra.topology import FULFILMENT_STREAM, TOPOLOGY, TRANSACTIONS
from ledger import bootstrap
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.adapters.memory_read_models import InMemoryBus
from ledger.application.accounts import ACCOUNT
from ledger.application.heartbeats import HEARTBEAT
from ledger.catalog import AGGREGATES
from ledger.domain.accounts import DepositMoney, OpenAccount
from ledger.domain.heartbeats import RecordHeartbeat
from ledger.kernel.aggregate import Registry
from ledger.kernel.components import Root, SettingsError
from ledger.kernel.publishing import Publisher
from ledger.kernel.service import CommandContext, CommandService
from ledger.projections import PROJECTIONS
from tests.counter import COUNTER, CreateCounter, Increment
from tests.ledger_fixtures import SERVICE_SETTINGS, account_service

CTX = CommandContext("corr", "req")
BEAT = "2026-11-26T08:30:00Z"


def test_each_aggregate_types_events_go_to_its_own_stream_keyed_by_aggregate() -> None:
    store = InMemoryEventStore()
    account_service(store).execute(OpenAccount("x-1", "Ann"), CTX)
    account_service(store).execute(DepositMoney("x-1", 5), CTX)
    counters = CommandService(COUNTER, store, SERVICE_SETTINGS)
    counters.execute(CreateCounter("x-1"), CTX)
    counters.execute(Increment("x-1"), CTX)
    bus = InMemoryBus()
    publisher = Publisher(Registry([ACCOUNT, COUNTER]), {"Account": "account-transactions", "Counter": "counters"}, bus)

    published = publisher.publish([(f"seq-{i}", record) for i, record in enumerate(store.events())])

    assert (published.put, dict(published.failed)) == (4, {})
    accounts = [json.loads(data) for _, data in bus.streams["account-transactions"]]
    assert [(m["aggregate_type"], m["type"]) for m in accounts] == [
        ("Account", "AccountCreated"),
        ("Account", "MoneyDeposited"),
    ]
    assert [key for key, _ in bus.streams["counters"]] == ["x-1", "x-1"]
    assert [json.loads(data)["type"] for _, data in bus.streams["counters"]] == ["CounterCreated", "Incremented"]


def test_an_event_of_a_type_with_no_stream_fails_its_record_and_the_others_go_on() -> None:
    store = InMemoryEventStore()
    CommandService(COUNTER, store, SERVICE_SETTINGS).execute(CreateCounter("c-1"), CTX)
    account_service(store).execute(OpenAccount("a-1", "Ann"), CTX)
    bus = InMemoryBus()
    records = {record.aggregate_type: record for record in store.events()}

    published = Publisher(AGGREGATES, {"Account": "account-transactions"}, bus).publish(
        [("counter-record", records["Counter"]), ("account-record", records["Account"])]
    )

    assert published.put == 1
    assert list(published.failed) == ["counter-record"]
    assert "no stream is assigned to Counter events" in published.failed["counter-record"]
    assert len(bus.streams["account-transactions"]) == 1


def test_a_message_the_stream_refuses_is_reported_failed() -> None:
    store = InMemoryEventStore()
    account_service(store).execute(OpenAccount("a-1", "Ann"), CTX)
    account_service(store).execute(DepositMoney("a-1", 1), CTX)
    bus = InMemoryBus(refuse={1})
    published = Publisher(AGGREGATES, {"Account": "tx"}, bus).publish(list(enumerate(store.events())))
    assert (published.put, list(published.failed)) == (1, [1])


def test_the_topology_routes_every_business_aggregate_to_one_stream_and_the_heartbeat_to_every_one() -> None:
    routes = json.loads(TOPOLOGY.event_streams(lambda stream: stream.name))
    assert routes == {
        "Account": TRANSACTIONS.name,
        "Order": "orders",
        "Customer": "orders",
        "Stock": FULFILMENT_STREAM.name,
        "Shipment": FULFILMENT_STREAM.name,
        "Heartbeat": [TRANSACTIONS.name, "orders", FULFILMENT_STREAM.name],
    }
    assert set(routes) == set(AGGREGATES.types)
    declared = [t for stream in TOPOLOGY.streams for t in stream.aggregate_types]
    assert len(declared) == len(set(declared))
    assert TOPOLOGY.heartbeat is not None
    assert TOPOLOGY.heartbeat.aggregate_type == HEARTBEAT.type


def test_a_heartbeat_goes_to_every_stream_the_publisher_feeds_and_nothing_else_is_duplicated() -> None:
    # GIVEN the topology's routing, an account event and a heartbeat in the store
    store = InMemoryEventStore()
    account_service(store).execute(OpenAccount("a-1", "Ann"), CTX)
    CommandService(HEARTBEAT, store, SERVICE_SETTINGS).execute(RecordHeartbeat(BEAT, BEAT), CTX)
    bus = InMemoryBus()
    root = Root({"EVENT_STREAMS": TOPOLOGY.event_streams(lambda stream: stream.name)}).provide(bootstrap.BUS, bus)
    # WHEN the publisher built from that routing publishes both
    published = root.get(bootstrap.PUBLISHER).publish([(r.aggregate_type, r) for r in store.events()])
    # THEN the beat is on every stream the publisher feeds, keyed by its id, and the account event on its own only
    assert dict(published.failed) == {}
    fed = [stream.name for stream in TOPOLOGY.streams if stream.aggregate_types]
    assert sorted(bus.streams) == sorted(fed)
    for stream in fed:
        beats = [(key, json.loads(data)) for key, data in bus.streams[stream] if b"Heartbeat" in data]
        assert [(key, m["aggregate_type"], m["type"]) for key, m in beats] == [(BEAT, "Heartbeat", "HeartbeatRecorded")]
    assert [json.loads(data)["aggregate_type"] for _, data in bus.streams[TRANSACTIONS.name]] == [
        "Account",
        "Heartbeat",
    ]
    assert published.put == 1 + len(fed)


def test_a_record_refused_by_one_of_its_streams_fails_so_that_its_retry_puts_it_on_every_one() -> None:
    store = InMemoryEventStore()
    CommandService(HEARTBEAT, store, SERVICE_SETTINGS).execute(RecordHeartbeat(BEAT, BEAT), CTX)
    bus = InMemoryBus(refuse={0})  # the first put (stream a) refuses it; b takes it
    (beat,) = store.events()
    published = Publisher(AGGREGATES, {"Heartbeat": ("a", "b")}, bus).publish([("beat", beat)])
    assert list(published.failed) == ["beat"]


def test_the_topology_names_the_projections_the_rebuild_knows() -> None:
    assert {table.projection for table in TOPOLOGY.tables if table.projection} == set(PROJECTIONS)


@pytest.mark.parametrize(
    "value",
    ["", "[]", '{"Account": 3}', '{"Account": ""}', '{"Heartbeat": []}', '{"Heartbeat": ["a", ""]}', "not json"],
)
def test_malformed_routes_stop_the_publisher_at_its_start(value: str) -> None:
    with pytest.raises(SettingsError, match="EVENT_STREAMS must be a JSON object of aggregate type to stream name"):
        Root({"EVENT_STREAMS": value}).start(bootstrap.EVENT_STREAMS)


@pytest.mark.parametrize("value", ["{}", '{"Order": "orders", "Stock": "s", "Shipment": "s", "Customer": "c"}'])
def test_a_declared_type_without_a_stream_stops_the_publisher_at_its_start(value: str) -> None:
    with pytest.raises(SettingsError, match="EVENT_STREAMS assigns no stream to Account"):
        Root({"EVENT_STREAMS": value}).start(bootstrap.PUBLISHER)
