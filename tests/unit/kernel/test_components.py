"""The composition root: parts built once on first use, settings checked when a function starts, fakes swapped in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.kernel.components import Component, Root, Setting, SettingsError, text, whole_number

ROOT = Path(__file__).resolve().parents[3]
SIZE = Setting("SIZE", whole_number(1))
NAME = Setting("NAME", text)


def test_a_part_is_built_once_on_first_use_from_what_it_needs() -> None:
    builds: list[str] = []

    def build(name: str, size: int) -> str:
        builds.append(name)
        return name * size

    part = Component("part", build, NAME, SIZE)
    root = Root({"NAME": "ab", "SIZE": "2"})
    assert builds == []
    assert root.get(part) == "abab"
    assert root.get(part) == "abab"
    assert builds == ["ab"]


def test_start_names_every_missing_or_malformed_setting_at_once() -> None:
    part = Component("part", lambda name, size: None, NAME, SIZE)
    outer = Component("outer", lambda inner: None, part)
    with pytest.raises(SettingsError) as raised:
        Root({"SIZE": "zero"}).start(outer)
    assert str(raised.value) == "NAME is not set; SIZE must be an integer of at least 1, not 'zero'"
    assert Root({"SIZE": "3", "NAME": "x"}).start(outer).get(SIZE) == 3


def test_providing_a_part_rebuilds_what_was_built_from_the_old_one() -> None:
    store = Component("store", lambda: "real store")
    service = Component("service", lambda s: f"service on {s}", store)
    root = Root({})
    assert root.get(service) == "service on real store"
    root.provide(store, "fake store")
    assert root.get(service) == "service on fake store"
    root.provide(service, "hand-made service")
    root.provide(store, "another store")
    assert root.get(service) == "hand-made service"  # what was provided stays provided


def test_a_root_knows_which_parts_what_it_started_is_built_from() -> None:
    # GIVEN a function that starts a service built on a client (as a handler module does when imported)
    client = Component("client", lambda: "client")
    other = Component("other client", lambda: "other")
    service = Component("service", lambda c, size: f"service on {c}", client, SIZE)
    root = Root({"SIZE": "1"}).start(service)
    # THEN it tells what it started and which parts its requests will build, before building any
    assert root.started == (service,)
    assert root.needs(client)
    assert root.needs(SIZE)
    assert not root.needs(other)


@pytest.mark.parametrize(
    ("function", "clients"),
    [
        ("commands", ["dynamodb"]),
        ("publisher", ["kinesis"]),
        ("fraud", ["dynamodb", "kinesis"]),
        ("notifications", ["dynamodb", "sns"]),
    ],
)
def test_each_function_names_the_aws_clients_its_first_requests_build(function: str, clients: list[str]) -> None:
    # GIVEN a function's handler module imported in a fresh process WHEN asked THEN the composition root names the
    # clients its parts are built from (what the bench times with the import), and has built none yet
    script = (
        f"import sys, ledger.entrypoints.{function}; from ledger import bootstrap\n"
        "print(' '.join(c.name for c in bootstrap.clients()), 'boto3' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == [*clients, "False"]


@pytest.mark.parametrize(
    ("module", "missing"),
    [("ledger.entrypoints.publisher", "EVENT_STREAMS"), ("ledger.entrypoints.fraud", "FRAUD_VELOCITY_COUNT")],
)
def test_a_function_without_a_setting_fails_at_its_cold_start_naming_it(module: str, missing: str) -> None:
    env = {name: value for name, value in os.environ.items() if name != missing}
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env={**env, "PYTHONPATH": f"{ROOT / 'functions'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"SettingsError: {missing} is not set" in result.stderr
