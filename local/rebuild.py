"""Read models rebuilt on start: the tables the topology marks as projections are not journaled; after the journal is
reloaded, `python -m ledger.rebuild <projection ...>` replays the event store into them, so they survive a restart.
It runs in a subprocess with the functions' environment, before the event source mappings start (so nothing else
writes them meanwhile) and before the HTTP API serves anything."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping

from infra.topology import Topology
from local.lambdas import ROOT, handler_available
from local.logs import log

REBUILD_MODULE = "ledger.rebuild"


class RebuildError(RuntimeError):
    """The read models could not be rebuilt: the runtime does not start with read models that disagree with the
    event store."""


def rebuild_read_models(topology: Topology, environment: Mapping[str, str]) -> list[str]:
    """Rebuild every projection of the topology; returns their names (none when the rebuild command is missing)."""
    projections = [table.projection for table in topology.tables if table.projection]
    if not projections:
        return []
    if not handler_available(f"{REBUILD_MODULE}.main"):
        log.warning(
            "read models not rebuilt: no rebuild command yet",
            extra={"command": f"python -m {REBUILD_MODULE}", "projections": projections},
        )
        return []
    started = time.perf_counter()
    python_path = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    completed = subprocess.run(  # noqa: S603 - our interpreter, arguments from the topology
        [sys.executable, "-m", REBUILD_MODULE, *projections],
        env={**environment, "PYTHONPATH": python_path},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (completed.stdout + completed.stderr).strip()
    if completed.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise RebuildError(f"python -m {REBUILD_MODULE} exited with {completed.returncode}:\n{tail}")
    log.info(
        "read models rebuilt",
        extra={
            "projections": projections,
            "result": output.splitlines()[-1] if output else "",
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return projections
