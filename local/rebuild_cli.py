"""`make rebuild` (`python -m local.rebuild_cli [projection ...]`): rebuild read models against a running `make run`.

Runs `python -m ledger.rebuild` with the functions' variables set here, as the runtime sets them for its functions:
the tables' local names and the topology's settings (local/environment.py), moto on 127.0.0.1:$AWS_PORT (4566) and
fake credentials, so that nothing can reach a real AWS account whatever the shell exports. No projection named:
all of them. The runtime rebuilds them on every start anyway; this is for a read model repaired or added while it
runs. The reports rebuild clears its table first: an event counted by the live reporting consumer between the clear
and the replay is counted twice, so run it while the runtime is quiet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence

from infra.topology import TOPOLOGY
from local.environment import SCRUBBED, resource_environment
from local.lambdas import ROOT
from local.rebuild import REBUILD_MODULE


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or ["all"]
    port = int(os.environ.get("AWS_PORT") or 4566)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        sys.stderr.write(f"make rebuild: nothing answers on 127.0.0.1:{port}: start `make run` first ($AWS_PORT)\n")
        return 2
    environment = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    environment |= resource_environment(TOPOLOGY, endpoint_url=f"http://127.0.0.1:{port}", region=region)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    command = [sys.executable, "-m", REBUILD_MODULE, *names]
    return subprocess.run(command, env=environment, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
