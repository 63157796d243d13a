"""Rebuild read models from the event store: `python -m ledger.rebuild accounts alerts reports ...` (or `all`).

Replays every aggregate's events, oldest first, into the named projections with the consumers' own rules, to
backfill a new read model or repair one. It reads the functions' environment variables (EVENT_TABLE_NAME,
ACCOUNTS_TABLE_NAME, ...; it names any that is missing): the local runtime sets them and runs this on every start;
against AWS, export the stack's table names (its outputs) and the topology's settings, and run it with credentials
that may scan and write those tables. Alerts rebuilt here are not notified again: notifications come only from the
live alerts stream.

Against a live system, the reports rebuild clears the table first: pause the reporting consumer's event source
mapping while it runs, or an event counted between the clear and the replay may be counted twice.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from ledger import bootstrap
from ledger.kernel.components import Component, Root, SettingsError
from ledger.kernel.projections import Projection
from ledger.kernel.projections import rebuild as rebuild_projections
from ledger.projections import PROJECTIONS


def rebuild(
    names: Sequence[str], root: Root | None = None, projections: Mapping[str, Component[Projection]] = PROJECTIONS
) -> dict[str, int]:
    """Rebuild each named projection; returns how many rows (or events counted) each got."""
    unknown = set(names) - set(projections)
    if unknown:
        raise ValueError(f"unknown projection(s) {sorted(unknown)}; choose from {', '.join(projections)}")
    root = root or bootstrap.root()
    chosen = {name: projections[name] for name in names}
    root.start(bootstrap.EVENT_STORE, *chosen.values())
    return rebuild_projections(
        {name: root.get(component) for name, component in chosen.items()},
        root.get(bootstrap.EVENT_STORE),
        root.get(bootstrap.REGISTRY),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("projections", nargs="+", choices=(*PROJECTIONS, "all"), help="what to rebuild")
    args = parser.parse_args(argv)
    names = tuple(PROJECTIONS) if "all" in args.projections else tuple(dict.fromkeys(args.projections))
    try:
        counts = rebuild(names)
    except SettingsError as error:
        parser.exit(
            2,
            f"{parser.prog}: the environment is incomplete: {error}\n"
            "  Locally, `make rebuild` sets every variable for a running `make run`; against AWS, export the stack's "
            "table names (its outputs) and the topology's settings (infra/topology.py).\n",
        )
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))  # noqa: T201 - a command-line tool
    return 0


if __name__ == "__main__":
    sys.exit(main())
