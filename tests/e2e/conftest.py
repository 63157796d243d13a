"""E2E fixtures: real HTTP against the local runtime (started here on free ports, empty) or, when E2E_BASE_URL is
set, against a deployed API (requests signed with SigV4 when E2E_SIGV4=1). Tests that need the runtime's process
(restarts) are marked `local_only` and skip against a deployed API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.client import ApiClient, sigv4_signer, unique_id
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.support import DEPLOYED_URL, OpenAccount


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime | None]:
    """The session's local runtime; None against a deployed API."""
    if DEPLOYED_URL:
        yield None
        return
    with LocalRuntime(tmp_path_factory.mktemp("runtime") / "data", reset=True) as runtime:
        yield runtime


@pytest.fixture(scope="session")
def api(local_runtime: LocalRuntime | None) -> ApiClient:
    if local_runtime is None:
        return ApiClient(DEPLOYED_URL, signer=sigv4_signer() if os.environ.get("E2E_SIGV4") == "1" else None)
    return local_runtime.client()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory of its own, for tests that start (and restart) their own runtime."""
    return tmp_path / "data"


@pytest.fixture
def open_account(api: ApiClient) -> OpenAccount:
    """Opens an account with a fresh id; returns the id."""

    def open_(initial_balance: int = 0, *, client: ApiClient | None = None, **fields: object) -> str:
        account_id = unique_id()
        response = (client or api).post(
            "/accounts", {"owner": "E2E Owner", "initial_balance": initial_balance, "account_id": account_id, **fields}
        )
        assert response.status == 201, response.body
        return account_id

    return open_
