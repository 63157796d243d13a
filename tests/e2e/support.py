"""What the e2e tests share besides fixtures: the contract's error shape, reading a whole history, `local_only`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.client import ApiClient, ApiResponse

DEPLOYED_URL = os.environ.get("E2E_BASE_URL", "").strip()

OpenAccount = Callable[..., str]  # the `open_account` fixture: (initial_balance=0, **fields) -> a new account's id

local_only = pytest.mark.skipif(bool(DEPLOYED_URL), reason="needs the local runtime's process (E2E_BASE_URL is set)")


def assert_error(response: ApiResponse, status: int, code: str, field: str | None = None) -> None:
    """`response` is the contract's error: the status, {"error": {"code", "message", "details"?}}, and, when
    `field` is given, a detail naming it; never a trace of the server's internals."""
    assert response.status == status, (response.status, response.body)
    assert response.header("content-type") == "application/json"
    body = response.json
    assert isinstance(body, dict)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str)
    assert error["message"]
    assert set(error) <= {"code", "message", "details"}, body
    for detail in error.get("details", []):
        assert set(detail) == {"field", "message"}, body
    if field is not None:
        assert field in [detail["field"] for detail in error.get("details", [])], body
    assert b"Traceback" not in response.body
    assert b'File "' not in response.body


def events_of(api: ApiClient, account_id: str) -> list[dict[str, Any]]:
    """Every event of the account, in order, read page by page."""
    events: list[dict[str, Any]] = []
    after: object = 0
    while after is not None:
        response = api.get(f"/accounts/{account_id}/events?after={after}&limit=1000")
        assert response.status == 200, response.body
        events += response.json["events"]
        after = response.json["next_after"]
    return events
