"""Reads: ETags, temporal queries, history pages, the OpenAPI document, health, correlation ids."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

from infra.topology import TOPOLOGY
from tests.e2e.client import ApiClient
from tests.e2e.support import OpenAccount, assert_error, events_of


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(occurred_at: str) -> datetime:
    return datetime.fromisoformat(occurred_at)


def test_state_responses_carry_the_version_as_etag(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(100)
    deposited = api.post(f"/accounts/{account_id}/deposits", {"amount": 1})
    assert deposited.header("etag") == '"2"'
    assert api.get(f"/accounts/{account_id}").header("etag") == '"2"'
    assert api.get(f"/accounts/{account_id}?version=1").header("etag") == '"1"'


def test_a_state_can_be_read_at_each_version(api: ApiClient, open_account: OpenAccount) -> None:
    # GIVEN an account with three versions
    account_id = open_account(1_000)
    api.post(f"/accounts/{account_id}/deposits", {"amount": 500})
    api.post(f"/accounts/{account_id}/withdrawals", {"amount": 200})
    # WHEN each version is read, THEN each is the state right after it
    states = [api.get(f"/accounts/{account_id}?version={v}").json for v in (1, 2, 3)]
    assert [(s["version"], s["balance"]) for s in states] == [(1, 1_000), (2, 1_500), (3, 1_300)]
    # AND a version the account has not reached is 404
    assert_error(api.get(f"/accounts/{account_id}?version=4"), 404, "version_not_found")


def test_a_state_can_be_read_as_of_an_instant(api: ApiClient, open_account: OpenAccount) -> None:
    # GIVEN an account whose three events happened at distinct instants
    account_id = open_account(1_000)
    time.sleep(0.05)
    api.post(f"/accounts/{account_id}/deposits", {"amount": 500})
    time.sleep(0.05)
    api.post(f"/accounts/{account_id}/withdrawals", {"amount": 200})
    instants = [parse(e["occurred_at"]) for e in events_of(api, account_id)]
    assert instants == sorted(set(instants))

    def balance_as_of(instant: datetime) -> tuple[int, int]:
        response = api.get(f"/accounts/{account_id}?as_of={quote(iso(instant))}")
        assert response.status == 200, response.body
        return response.json["version"], response.json["balance"]

    # WHEN it is read at an event's instant, or between two events, THEN the state is the one current then
    assert balance_as_of(instants[0]) == (1, 1_000)
    assert balance_as_of(instants[1]) == (2, 1_500)
    assert balance_as_of(instants[1] + (instants[2] - instants[1]) / 2) == (2, 1_500)
    assert balance_as_of(instants[2] - timedelta(milliseconds=1)) == (2, 1_500)
    assert balance_as_of(instants[2]) == (3, 1_300)
    assert balance_as_of(instants[2] + timedelta(days=365)) == (3, 1_300)
    # AND the same instant written with another UTC offset reads the same state
    plus_two = instants[1].astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds")
    response = api.get(f"/accounts/{account_id}?as_of={quote(plus_two)}")
    assert (response.status, response.json["version"]) == (200, 2), (plus_two, response.body)
    # AND before the account existed it is 404
    before = quote(iso(instants[0] - timedelta(milliseconds=1)))
    assert_error(api.get(f"/accounts/{account_id}?as_of={before}"), 404, "account_not_found")


def test_a_bad_as_of_or_both_version_and_as_of_is_422(api: ApiClient, open_account: OpenAccount) -> None:
    account_id = open_account(100)
    for bad in ("yesterday", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "", "x" * 65):
        assert_error(api.get(f"/accounts/{account_id}?as_of={quote(bad)}"), 422, "validation_error", "as_of")
    now = quote(iso(datetime.now(UTC)))
    assert_error(api.get(f"/accounts/{account_id}?version=1&as_of={now}"), 422, "validation_error", "as_of")


def test_the_history_is_paged_with_after_limit_and_next_after(api: ApiClient, open_account: OpenAccount) -> None:
    # GIVEN an account with five events
    account_id = open_account(1_000)
    for amount in (1, 2, 3, 4):
        api.post(f"/accounts/{account_id}/deposits", {"amount": amount})

    def page(query: str) -> tuple[list[int], int | None]:
        response = api.get(f"/accounts/{account_id}/events?{query}")
        assert response.status == 200, response.body
        return [e["version"] for e in response.json["events"]], response.json["next_after"]

    # WHEN it is read two events at a time, THEN the pages chain through next_after and the last says null
    assert page("limit=2") == ([1, 2], 2)
    assert page("after=2&limit=2") == ([3, 4], 4)
    assert page("after=4&limit=2") == ([5], None)
    assert page("after=5") == ([], None)
    assert page("") == ([1, 2, 3, 4, 5], None)
    assert page("after=3&limit=1") == ([4], 4)
    assert page("limit=5") == ([1, 2, 3, 4, 5], None)
    # AND the limits of a page are enforced
    for query, field in (("limit=0", "limit"), ("limit=1001", "limit"), ("after=-1", "after"), ("after=x", "after")):
        assert_error(api.get(f"/accounts/{account_id}/events?{query}"), 422, "validation_error", field)


def test_openapi_document_lists_every_route_of_the_topology(api: ApiClient) -> None:
    response = api.get("/openapi.json")
    assert response.status == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    deployed = {(route.method, route.path) for function in TOPOLOGY.functions for route in function.routes}
    assert deployed <= documented, deployed - documented


def test_health_is_200_ok(api: ApiClient) -> None:
    response = api.get("/health")
    assert (response.status, response.json) == (200, {"status": "ok"})


def test_the_correlation_id_is_echoed_and_stored_in_the_event_metadata(
    api: ApiClient, open_account: OpenAccount
) -> None:
    # GIVEN a command sent with a correlation id
    account_id = open_account(0)
    correlation_id = f"e2e-{uuid.uuid4()}"
    response = api.post(
        f"/accounts/{account_id}/deposits", {"amount": 10}, headers={"X-Correlation-Id": correlation_id}
    )
    # THEN the response echoes it and the event it appended records it
    assert response.header("x-correlation-id") == correlation_id
    event = events_of(api, account_id)[-1]
    assert event["metadata"]["correlation_id"] == correlation_id
    assert event["metadata"]["causation_id"]
    # AND a request without one gets one of its own
    assert api.get(f"/accounts/{account_id}").header("x-correlation-id")
    assert api.get("/health", headers={"X-Correlation-Id": correlation_id}).header("x-correlation-id") == correlation_id
