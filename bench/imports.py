"""Figure 3: cold import of each handler module in a fresh process, over `import boto3; boto3.client("dynamodb")`
in a fresh process; the median of several runs of each, interleaved so that machine noise hits every one alike.

Two environments: Lambda-like (LAMBDA_TASK_ROOT set, no trace id: Powertools' Tracer enables X-Ray, imports the X-Ray
SDK and patches the libraries it knows) - the one the target applies to - and tracing disabled
(POWERTOOLS_TRACE_DISABLED=true; Powertools still imports the X-Ray SDK, to switch it off).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from bench import FUNCTIONS, ROOT
from bench.aws import FAKE_AWS
from bench.report import Note, Row, judged
from infra.topology import TOPOLOGY
from local.environment import settings_environment

HANDLERS: Final = tuple(function.handler.rpartition(".")[0] for function in TOPOLOGY.functions)
# The informational rows (tracing off; the import plus the DynamoDB client the first request builds) are for the
# HTTP handlers: every handler pays the same for tracing, and a stream consumer's first batch builds other clients
# (Kinesis, SNS) too. Fewer fresh processes keep `make bench` within its few minutes.
HTTP_HANDLERS: Final = tuple(function.handler.rpartition(".")[0] for function in TOPOLOGY.functions if function.routes)
BASELINE: Final = 'import boto3; boto3.client("dynamodb")'
# What the first request adds: the composition root builds the DynamoDB client on first use.
FIRST_CLIENT: Final = "; from ledger import bootstrap; bootstrap.get(bootstrap.DYNAMODB)"
TARGET: Final = 1.3
LAMBDA_LIKE: Final = "tracing on (Lambda-like)"
UNTRACED: Final = "tracing off"
_TIMED = "import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)"


@dataclass(frozen=True)
class Subject:
    label: str
    statement: str
    variant: str  # environment
    targeted: bool = False  # the row the target applies to: a handler's import, tracing on


def environment(variant: str) -> dict[str, str]:
    """What a function's process sees: the stack's variables (the functions' settings, which a handler module reads
    and checks when imported), fake keys, and the Lambda markers."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_", "_X_AMZN"))}
    env.pop("LAMBDA_TASK_ROOT", None)
    env.update(FAKE_AWS)
    env.update(settings_environment(TOPOLOGY, region=FAKE_AWS["AWS_DEFAULT_REGION"]))
    env.update(
        {
            "PYTHONPATH": str(FUNCTIONS),
            "LAMBDA_TASK_ROOT": str(FUNCTIONS),
            "AWS_LAMBDA_FUNCTION_NAME": "ledger-bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        }
    )
    if variant == UNTRACED:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def time_once(statement: str, variant: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        env=environment(variant),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def run(*, runs: int) -> tuple[list[Row], list[Note], dict[str, Any]]:
    subjects = [
        Subject("boto3 + DynamoDB client", BASELINE, LAMBDA_LIKE),
        *(Subject(module, f"import {module}", LAMBDA_LIKE, targeted=True) for module in HANDLERS),
        *(Subject(module, f"import {module}", UNTRACED) for module in HTTP_HANDLERS),
        *(
            Subject(f"{module} + its DynamoDB client", f"import {module}{FIRST_CLIENT}", LAMBDA_LIKE)
            for module in HTTP_HANDLERS
        ),
    ]
    for subject in subjects:  # compile and cache bytecode, so every timed run is alike
        time_once(subject.statement, subject.variant)
    samples: dict[Subject, list[float]] = defaultdict(list)
    for round_ in range(runs):
        shift = round_ % len(subjects)
        for subject in subjects[shift:] + subjects[:shift]:
            samples[subject].append(time_once(subject.statement, subject.variant))
    baseline = statistics.median(samples[subjects[0]])
    rows: list[Row] = []
    notes: list[Note] = []
    for subject in subjects[1:]:
        median = statistics.median(samples[subject])
        ratio = median / baseline
        targeted = subject.targeted
        rows.append(
            Row(
                f"3. cold import {subject.label}, {subject.variant}",
                f"{ratio:.2f} ({median * 1000:.0f} ms / {baseline * 1000:.0f} ms, median of {runs})",
                f"<= {TARGET}" if targeted else "info (the target applies to the import, tracing on)",
                judged(ratio <= TARGET) if targeted else "info",
                figure=3,
                number=round(ratio, 3),
            )
        )
        if targeted and ratio > TARGET:
            notes.append(
                (3, f"3 misses for {subject.label}: " + where_import_time_goes(subject.statement, subject.variant))
            )
    details: dict[str, Any] = {"seconds": {f"{s.label} | {s.variant}": samples[s] for s in subjects}}
    details["importtime"] = {module: where_import_time_goes(f"import {module}", LAMBDA_LIKE) for module in HANDLERS}
    return rows, notes, details


def where_import_time_goes(statement: str, variant: str, top: int = 6) -> str:
    """`python -X importtime`, self time summed per top-level package, largest first."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=environment(variant),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
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
