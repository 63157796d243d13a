"""The event archive's tools: `python -m ledger.archive verify` compares the archive with the event store.

`verify` reads every archived message (dropping repeated copies of an event) and every stored event, and prints what
differs: events missing from the archive, archived events the store does not hold, events archived unlike the store,
aggregates whose archived versions have a gap. Events newer than `--grace-seconds` (default 120: Firehose buffers up
to a minute) that are not archived yet are counted apart. It exits with 1 when the archive is not consistent.

It reads the functions' environment variables (EVENT_TABLE_NAME, ARCHIVE_BUCKET_NAME): locally `make verify-archive`
sets them for a running `make run`; against AWS, export the stack's outputs and run it with credentials that may
scan the event table and read the bucket.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from ledger import bootstrap
from ledger.kernel.archive import check
from ledger.kernel.components import Root, SettingsError


def verify(root: Root | None = None, *, grace_seconds: float = 120.0, now: float | None = None) -> list[str]:
    """The report's lines, and whether the archive is consistent (the last line says so)."""
    root = root or bootstrap.root()
    root.start(bootstrap.ARCHIVE, bootstrap.EVENT_STORE)
    instant = (time.time() if now is None else now) - grace_seconds
    cut = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(instant)) + f".{int(instant % 1 * 1000):03d}Z"
    report = check(root.get(bootstrap.ARCHIVE), root.get(bootstrap.EVENT_STORE), root.get(bootstrap.REGISTRY), cut=cut)
    return report.lines()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.archive", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify_parser = commands.add_parser("verify", help="compare the archive with the event store")
    verify_parser.add_argument(
        "--grace-seconds",
        type=float,
        default=120.0,
        help="events newer than this are not missing yet, only not delivered (default 120)",
    )
    args = parser.parse_args(argv)
    try:
        lines = verify(grace_seconds=args.grace_seconds)
    except SettingsError as error:
        parser.exit(
            2,
            f"{parser.prog}: the environment is incomplete: {error}\n"
            "  Locally, `make verify-archive` sets every variable for a running `make run`; against AWS, export the "
            "stack's outputs (the event table's and the archive bucket's names).\n",
        )
    print("\n".join(lines))  # noqa: T201 - a command-line tool
    return 0 if lines[-1] == "consistent" else 1


if __name__ == "__main__":
    sys.exit(main())
