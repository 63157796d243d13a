"""Every event store the contracts run against: the in-memory store (unit speed) and the DynamoDB store (on moto),
the latter both as the ledger builds it (accounts on bare stream keys) and with every type's streams scoped."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from infra.topology import EVENTS, IDEMPOTENCY
from ledger.adapters.dynamodb_event_store import DynamoDBEventStore
from ledger.adapters.memory_event_store import InMemoryEventStore
from ledger.catalog import AGGREGATES
from ledger.kernel.ports import EventStore
from local.resources import create_tables


@pytest.fixture(params=["memory", "dynamodb", "dynamodb-all-scoped"])
def store(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    bare = AGGREGATES.bare_stream_key_types if request.param == "dynamodb" else frozenset()
    with mock_aws():
        client = boto3.client("dynamodb")
        names = create_tables(client)
        yield DynamoDBEventStore(
            client,
            event_table=names[EVENTS.env_var],
            idempotency_table=names[IDEMPOTENCY.env_var],
            bare_stream_key_types=bare,
        )
