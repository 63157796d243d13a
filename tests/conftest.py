"""Shared test setup: every scope runs with fake AWS credentials, so no test can reach a real account, except the
e2e suite pointed at a deployed API (E2E_BASE_URL), which signs with the caller's own credentials."""

from __future__ import annotations

import os

import pytest

from infra.topology import TOPOLOGY
from local.environment import settings_environment

for name, value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ.setdefault(name, value)
if not os.environ.get("E2E_BASE_URL"):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ[name] = "testing"
    os.environ.pop("AWS_PROFILE", None)
# The functions' settings as the topology gives them (locally named): handler modules check them when imported.
for name, value in settings_environment(TOPOLOGY, region=os.environ["AWS_DEFAULT_REGION"]).items():
    os.environ.setdefault(name, value)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its scope (its folder), so `-m unit` and the like select by scope."""
    for item in items:
        for scope in ("unit", "integration", "infra", "e2e", "contracts"):
            if f"/tests/{scope}/" in str(item.path):
                item.add_marker("integration" if scope == "contracts" else scope)
