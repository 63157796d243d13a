"""The two ways a person rebuilds read models: `python -m ledger.rebuild` from the repository's root (the venv has
functions/ on its path: the Makefile's .pth) and `make rebuild` against a running `make run`; each one says what is
missing instead of failing on it. Subprocesses, as a person runs them (no socket is opened in this process)."""

from __future__ import annotations

import os
import subprocess
import sys

from infra.topology import TOPOLOGY
from local.environment import settings_environment
from local.lambdas import ROOT


def run(module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    functions_variables = set(settings_environment(TOPOLOGY, region="us-east-1"))
    clean = {k: v for k, v in os.environ.items() if k not in functions_variables and k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_m_ledger_rebuild_runs_from_the_root_and_names_the_missing_variables() -> None:
    # GIVEN no PYTHONPATH and none of the functions' variables WHEN a person runs it from the repository's root
    completed = run("ledger.rebuild", "accounts")
    # THEN it is found (no ModuleNotFoundError) and refuses with the variables it lacks and where to get them
    assert completed.returncode == 2, completed.stderr
    assert "ModuleNotFoundError" not in completed.stderr
    assert "EVENT_TABLE_NAME is not set" in completed.stderr
    assert "make rebuild" in completed.stderr


def test_make_rebuild_says_to_start_make_run_when_nothing_listens_on_aws_port() -> None:
    completed = run("local.tools", "ledger.rebuild", "accounts", AWS_PORT="1")  # tcpmux: nothing listens there
    assert completed.returncode == 2
    assert "nothing answers on 127.0.0.1:1: start `make run` first" in completed.stderr
