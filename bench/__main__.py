"""`python -m bench` (`make bench`): run the figures and print the table (or JSON with --json).

The benchmark informs, it does not gate: it exits 0 whatever the verdicts, and non-zero only when it cannot run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from bench import (
    consumers,
    cost_run,
    costs,
    dashboard,
    hot,
    imports,
    lag,
    order_calls,
    order_consumers,
    order_traffic,
    reads,
    throughput,
    traffic,
)
from bench.aws import use_fake_credentials
from bench.report import Note, Report, Row

FIGURES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
Result = tuple[list[Row], list[Note], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--only", type=int, action="append", choices=FIGURES, help="run only this figure (repeatable)")
    parser.add_argument("--reads", type=_positive, default=21, help="state reads per account for figure 2 (default 21)")
    parser.add_argument(
        "--imports", type=_positive, default=5, help="fresh processes per subject for figure 3 (default 5)"
    )
    parser.add_argument(
        "--profile-commands",
        type=int,
        default=100,
        help="warm commands profiled when figure 4 misses (default 100; 0: none)",
    )
    parser.add_argument(
        "--consumer-events",
        type=_positive,
        default=consumers.DEFAULT_EVENTS,
        help=f"commands whose events feed the consumers in figure 5 (default {consumers.DEFAULT_EVENTS:,})",
    )
    parser.add_argument(
        "--lag-commands",
        type=_positive,
        default=lag.DEFAULT_COMMANDS,
        help=f"deposits timed on the local runtime for figure 6 (default {lag.DEFAULT_COMMANDS})",
    )
    parser.add_argument(
        "--shop-orders",
        type=_positive,
        default=order_traffic.DEFAULT_ORDERS,
        help=f"orders in the shop traffic that feeds figure 8 (default {order_traffic.DEFAULT_ORDERS})",
    )
    parser.add_argument(
        "--dashboard-payments",
        type=_positive,
        default=dashboard.DEFAULT_PAYMENTS,
        help=f"payments timed on the local runtime for figure 9 (default {dashboard.DEFAULT_PAYMENTS})",
    )
    parser.add_argument(
        "--hot-commands",
        type=_positive,
        default=hot.DEFAULT_COMMANDS,
        help=f"commands each writer sends on the hot account in figure 10 (default {hot.DEFAULT_COMMANDS})",
    )
    parser.add_argument(
        "--cost-commands",
        type=_positive,
        default=cost_run.DEFAULT_COMMANDS,
        help=f"commands of each kind counted for figure 11 (default {cost_run.DEFAULT_COMMANDS})",
    )
    parser.add_argument(
        "--snapshot-interval",
        type=_positive,
        help="what-if: override the topology's SNAPSHOT_INTERVAL for figures 1, 2 and 4 (a note says so)",
    )
    args = parser.parse_args(argv)
    figures = set(args.only or FIGURES)
    if args.consumer_events < traffic.MIN_EVENTS:
        parser.error(f"--consumer-events must be at least {traffic.MIN_EVENTS}")
    if args.shop_orders < order_traffic.MIN_ORDERS:
        parser.error(f"--shop-orders must be at least {order_traffic.MIN_ORDERS}")

    use_fake_credentials()
    report = Report(machine=machine())
    if args.snapshot_interval is not None:
        report.notes.append(f"what-if run: SNAPSHOT_INTERVAL={args.snapshot_interval}, not the topology's value.")
    started = time.perf_counter()
    snapshot_interval = args.snapshot_interval
    runs: list[tuple[set[int], str, Callable[[], Result]]] = [
        ({1, 2}, "reads", lambda: reads.run(snapshot_interval=snapshot_interval, reads=args.reads)),
        ({3}, "imports", lambda: imports.run(runs=args.imports)),
        (
            {4},
            "throughput",
            lambda: throughput.run(snapshot_interval=snapshot_interval, profile_commands=args.profile_commands),
        ),
        ({5}, "consumers", lambda: consumers.run(events=args.consumer_events)),
        ({6}, "lag", lambda: lag.run(commands=args.lag_commands)),
        ({7}, "order_calls", lambda: order_calls.run(snapshot_interval=snapshot_interval)),
        ({8}, "order_consumers", lambda: order_consumers.run(orders=args.shop_orders)),
        ({9}, "dashboard", lambda: dashboard.run(payments=args.dashboard_payments)),
        ({10}, "hot", lambda: hot.run(commands=args.hot_commands)),
        ({11}, "costs", lambda: costs.run(commands=args.cost_commands)),
    ]
    for wanted, name, run in runs:
        if figures & wanted:
            _add(report, name, run(), figures)
    report.details["seconds"] = round(time.perf_counter() - started, 1)
    print(report.json() if args.json else report.text())
    return 0


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive integer")
    return int(raw)


def machine() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "moto": version("moto"),
        "boto3": version("boto3"),
        "powertools": version("aws-lambda-powertools"),
        "load (1 min) at start": None if load is None else round(load, 2),
    }


def _add(report: Report, name: str, result: Result, figures: set[int]) -> None:
    rows, notes, details = result
    report.rows += [row for row in rows if row.figure in figures]
    report.notes += [text for figure, text in notes if figure in figures]
    report.details[name] = details


if __name__ == "__main__":
    sys.exit(main())
