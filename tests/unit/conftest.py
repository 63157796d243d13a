"""Unit tests are pure: any attempt to open a socket fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.unit.pipeline_support import pipeline, wire_pipeline  # noqa: F401 - the pipeline tests' fixtures


@pytest.fixture(autouse=True)
def _no_sockets() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
