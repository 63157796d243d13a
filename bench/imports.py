"""Figure 3: each function's cold start - its handler module imported, then the parts its first request builds (its
AWS clients among them), tracing as deployed - in a fresh process, over `import boto3; boto3.client("dynamodb")` in a
fresh process; the median of several runs of each, interleaved so that machine noise hits every one alike.

What a function's first request builds is read from its composition root, not listed here: a handler module names the
parts it uses when imported (`bootstrap.start`), and `bootstrap.clients()` says which AWS clients those are built
from. Tracing as deployed is Lambda's active tracing with no tracing library in the process (docs/tracing.md), so the
environment is Lambda's (its markers, the functions' settings) and nothing else. The code is the asset as the synth
builds it (infra/bytecode.py: the package with its bytecode compiled by the runtime's Python), run by that Python
(3.13, from pyenv) in a virtual environment of its own, `.venv-lambda`, holding the libraries the runtime and the
Powertools layer bring, at the versions requirements.txt pins. Bytecode is read, never written, as in Lambda's
read-only task root.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench import ROOT
from bench.aws import FAKE_AWS
from bench.report import Note, Row, judged
from infra.bytecode import build, interpreter
from infra.functions import RUNTIME
from infra.topology import TOPOLOGY
from local.environment import settings_environment

HANDLERS: Final = {function.id: function.handler.rpartition(".")[0] for function in TOPOLOGY.functions}
BASELINE: Final = 'import boto3; boto3.client("dynamodb")'
# A cold start up to the first request's first AWS call: the import (Lambda's init), then every part the module
# started, built as the first request builds it (the clients, the event store, the registry of aggregates, ...).
COLD_START: Final = (
    "import {module}; from ledger import bootstrap; [bootstrap.get(part) for part in bootstrap.root().started]"
)
# Which AWS clients those parts are built from (untimed: it names the row).
_CLIENTS: Final = (
    "import json, {module}; from ledger import bootstrap; print(json.dumps([c.name for c in bootstrap.clients()]))"
)
_CLIENT_NAMES: Final = {"dynamodb": "DynamoDB", "kinesis": "Kinesis", "sns": "SNS"}
TARGET: Final = 1.3
RUNTIME_VERSION: Final = RUNTIME.name.removeprefix("python")  # "3.13"
LAMBDA_VENV: Final = ROOT / ".venv-lambda"
# What the runtime (boto3) and the Powertools layer bring into a function's process, pinned as requirements.txt pins
RUNTIME_LIBRARIES: Final = ("aws-lambda-powertools", "boto3")
_TIMED = "import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)"


@dataclass(frozen=True)
class Subject:
    label: str
    statement: str


def environment(task_root: Path) -> dict[str, str]:
    """What a function's process sees at its cold start: the stack's variables (the functions' settings, which a
    handler module reads and checks when imported), fake keys, and the Lambda markers; no trace id (Lambda sets it
    per invocation) and no tracing library to configure. `task_root` holds the code, and no bytecode is written."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_", "_X_AMZN"))}
    env.pop("LAMBDA_TASK_ROOT", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.update(FAKE_AWS)
    env.update(settings_environment(TOPOLOGY, region=FAKE_AWS["AWS_DEFAULT_REGION"]))
    env.update(
        {
            "PYTHONPATH": str(task_root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "ledger-bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME.name}",
        }
    )
    return env


def runtime_python() -> str:
    """The runtime's Python with the runtime's libraries: `.venv-lambda`, made (once) from the Python of the
    runtime's version this machine has, with the libraries pinned in requirements.txt and constraints.txt."""
    python, installed = LAMBDA_VENV / "bin" / "python", LAMBDA_VENV / ".installed"
    if not installed.exists():
        base = interpreter(RUNTIME_VERSION)
        if base is None:
            raise RuntimeError(f"figure 3 needs Python {RUNTIME_VERSION} (the functions' runtime): pyenv install it")
        subprocess.run([base, "-m", "venv", str(LAMBDA_VENV)], check=True)
        requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        pins = [line for line in requirements if line.startswith(RUNTIME_LIBRARIES)]
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *pins,
                "-c",
                str(ROOT / "constraints.txt"),
            ],
            check=True,
        )
        installed.touch()
    return str(python)


def deployed_copy(into: Path) -> Path:
    """The functions' asset as the synth builds it (infra/bytecode.py), in `into`."""
    root = into / "task"
    build(root, python=runtime_python())
    return root


def _run(task_root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [runtime_python(), *arguments], env=environment(task_root), cwd=ROOT, capture_output=True, text=True, check=True
    )


def time_once(task_root: Path, statement: str) -> float:
    return float(_run(task_root, "-c", _TIMED.format(statement=statement)).stdout.strip().splitlines()[-1])


def clients_of(task_root: Path, module: str) -> list[str]:
    """The AWS clients the first request of the function whose handler is `module` builds (its composition root's
    word), e.g. ["dynamodb", "sns"]."""
    names: list[str] = json.loads(_run(task_root, "-c", _CLIENTS.format(module=module)).stdout.splitlines()[-1])
    return names


def subjects(task_root: Path) -> list[Subject]:
    found = [Subject("boto3 + DynamoDB client", BASELINE)]
    for function_id, module in HANDLERS.items():
        clients = ", ".join(_CLIENT_NAMES.get(name, name) for name in clients_of(task_root, module)) or "no"
        label = f"{function_id} ({module} + its parts: {clients} client{'s' if ',' in clients else ''})"
        found.append(Subject(label, COLD_START.format(module=module)))
    return found


def run(*, runs: int) -> tuple[list[Row], list[Note], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as scratch:
        return _run_on(deployed_copy(Path(scratch)), runs=runs)


def _run_on(task_root: Path, *, runs: int) -> tuple[list[Row], list[Note], dict[str, Any]]:
    timed = subjects(task_root)
    for subject in timed:  # one untimed run each: the libraries' bytecode and the OS's file cache are warm
        time_once(task_root, subject.statement)
    samples: dict[Subject, list[float]] = defaultdict(list)
    for round_ in range(runs):
        shift = round_ % len(timed)
        for subject in timed[shift:] + timed[:shift]:
            samples[subject].append(time_once(task_root, subject.statement))
    baseline = statistics.median(samples[timed[0]])
    importtime = {s.label: where_import_time_goes(task_root, s.statement) for s in timed[1:]}
    rows: list[Row] = []
    notes: list[Note] = []
    for subject in timed[1:]:
        median = statistics.median(samples[subject])
        ratio = median / baseline
        rows.append(
            Row(
                f"3. cold start {subject.label}, tracing as deployed",
                f"{ratio:.2f} ({median * 1000:.0f} ms / {baseline * 1000:.0f} ms, median of {runs})",
                f"<= {TARGET}",
                judged(ratio <= TARGET),
                figure=3,
                number=round(ratio, 3),
            )
        )
        if ratio > TARGET:
            notes.append((3, f"3 misses for {subject.label}: {importtime[subject.label]}"))
    return rows, notes, {"seconds": {s.label: samples[s] for s in timed}, "importtime": importtime}


def where_import_time_goes(task_root: Path, statement: str, top: int = 6) -> str:
    """`python -X importtime`, self time summed per top-level package, largest first."""
    result = _run(task_root, "-X", "importtime", "-c", statement)
    per_package: dict[str, int] = defaultdict(int)
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if not fields[0].strip().isdigit():
            continue  # the header line
        self_us, module = int(fields[0]), fields[2].strip()
        per_package[module.split(".")[0]] += self_us
        total += self_us
    ranked = sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]
    shares = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in ranked)
    return f"self time by package under -X importtime (total {total / 1000:.0f} ms): {shares}."
