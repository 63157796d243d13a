"""The OpenAPI document is the contract, checked from the outside: schemathesis reads /openapi.json alone and sends
the local runtime requests that every schema admits (each must be accepted, or refused by a rule the document states
in words), requests that break a schema (each must be refused with a 4xx), each constraint's edge values, methods the
document does not list (405 with an Allow that lists the ones it does), and chains of calls over the links it infers
(open an account, then deposit into it; place an order, then pay it). Every response must be documented: its status,
its content type, its headers and its body's schema, the error codes each operation lists included. No 5xx, ever.

Configuration: tests/e2e/schemathesis.toml (what runs and why) and tests/e2e/schemathesis_hooks.py (the rules the
document states in words). A run of its own, on a runtime of its own, so that its thousands of requests move no
other test's figures. About two minutes; the seed is fixed so a failure reproduces (E2E_SCHEMATHESIS_SEED picks
another: `E2E_SCHEMATHESIS_SEED=random` a new one each time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.local_runtime import ROOT, LocalRuntime
from tests.e2e.support import local_only

CONFIG = ROOT / "tests" / "e2e" / "schemathesis.toml"
SEED = "20261201"
RUN_TIMEOUT_SECONDS = 540


@local_only
@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 120)
def test_every_response_to_every_kind_of_request_is_what_the_openapi_document_promises(tmp_path: Path) -> None:
    # GIVEN a local runtime of its own, empty
    with LocalRuntime(tmp_path / "data", reset=True) as runtime:
        # WHEN schemathesis runs every phase against its /openapi.json
        seed = os.environ.get("E2E_SCHEMATHESIS_SEED", SEED)
        command = [sys.executable, "-m", "schemathesis.cli", f"--config-file={CONFIG}", "run"]
        command += [f"{runtime.base_url}/openapi.json", "--no-color", "--output-truncate=false"]
        command += [] if seed == "random" else [f"--seed={seed}"]
        command += [f"--report-dir={tmp_path / 'report'}", "--report=junit"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
        completed = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
    # THEN it finds nothing, and every phase ran and passed
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-20_000:]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"\N{WHITE HEAVY CHECK MARK} {phase}" in output, output[-5_000:]
