"""`make rebuild`, `make replay`, `make verify-archive` (`python -m local.tools <module> [argument ...]`): an
operator's tool of the ledger package (`ledger.rebuild`, `ledger.replay`, `ledger.archive`) against a running
`make run`.

Runs `python -m <module>` with the variables set here that the deployed tool reads from the stack's outputs: the
tables' local names, the archive's bucket and the topology's settings (local/environment.py), moto on
127.0.0.1:$AWS_PORT (4566) and fake credentials, so that nothing can reach a real AWS account whatever the shell
exports. The runtime rebuilds every read model on start anyway; `make rebuild` is for a read model repaired or added
while it runs. The reports rebuild clears its table first: an event counted by the live reporting consumer between
the clear and the replay is counted twice, so run it while the runtime is quiet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Final

from infra.topology import TOPOLOGY
from local.environment import SCRUBBED, tools_environment
from local.lambdas import ROOT

TOOLS: Final = ("ledger.rebuild", "ledger.replay", "ledger.archive")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in TOOLS:
        sys.stderr.write(f"usage: python -m local.tools {{{','.join(TOOLS)}}} [argument ...]\n")
        return 2
    module, rest = arguments[0], arguments[1:]
    port = int(os.environ.get("AWS_PORT") or 4566)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        sys.stderr.write(f"{module}: nothing answers on 127.0.0.1:{port}: start `make run` first ($AWS_PORT)\n")
        return 2
    environment = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    environment |= tools_environment(TOPOLOGY, endpoint_url=f"http://127.0.0.1:{port}", region=region)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    command = [sys.executable, "-m", module, *rest]
    return subprocess.run(command, env=environment, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
