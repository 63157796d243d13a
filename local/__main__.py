"""`python -m local` (`make run`): the ledger on this machine.

moto on 127.0.0.1:$AWS_PORT with the topology's tables, the functions' handlers behind an API Gateway-like HTTP API
on 127.0.0.1:$PORT, data journaled under $DATA_DIR and reloaded on start. Ctrl-C (or SIGTERM) stops it cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from local.chaos import ENVIRONMENT as CHAOS_ENVIRONMENT
from local.chaos import ChaosSettings
from local.journal import DataDirInUseError, JournalError
from local.logs import log
from local.pipeline import STATUS_FILE
from local.rebuild import RebuildError
from local.runtime import LocalRuntime, Options

# `--chaos`: every switch on at once, at these rates, unless set one by one.
CHAOS_PRESET = ChaosSettings(duplicate=0.2, fail_before=0.1, fail_midway=0.1, shuffle=0.5)


def parse_args(argv: list[str] | None = None) -> Options:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n\n")[1])
    parser.add_argument("--port", type=int, default=int(env.get("PORT") or 8000), help="HTTP API port ($PORT, 8000)")
    parser.add_argument(
        "--aws-port", type=int, default=int(env.get("AWS_PORT") or 4566), help="moto's port ($AWS_PORT, 4566)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(env.get("DATA_DIR") or ".local"), help="journal directory ($DATA_DIR)"
    )
    parser.add_argument("--reset", action="store_true", help="delete the journaled data and start empty")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(env.get("LOCAL_CONCURRENCY") or 4),
        help="execution environments per function ($LOCAL_CONCURRENCY, 4)",
    )
    parser.add_argument(
        "--heartbeat-seconds",
        type=float,
        default=float(env["LOCAL_HEARTBEAT_SECONDS"]) if env.get("LOCAL_HEARTBEAT_SECONDS") else None,
        metavar="S",
        help="how often the pipeline's heartbeat fires ($LOCAL_HEARTBEAT_SECONDS; default: the topology's rate, "
        "5 minutes; 0: never)",
    )
    chaos = parser.add_argument_group(
        "chaos",
        "what at-least-once delivery allows, made frequent, for the event source mappings (fractions of "
        "batches, 0 to 1; docs/local-runtime.md)",
    )
    chaos.add_argument(
        "--chaos",
        action="store_true",
        help=f"every switch on: duplicate {CHAOS_PRESET.duplicate}, fail-before {CHAOS_PRESET.fail_before}, "
        f"fail-midway {CHAOS_PRESET.fail_midway}, shuffle {CHAOS_PRESET.shuffle} (the switches below override)",
    )
    for name, help_ in (
        ("duplicate", "batches delivered twice"),
        ("fail_before", "invocations failed before the function runs"),
        ("fail_midway", "invocations given half the batch, then failed"),
        ("shuffle", "batches delivered in a random order"),
    ):
        flag = f"--chaos-{name.replace('_', '-')}"
        chaos.add_argument(flag, type=float, metavar="F", help=f"{help_} (${CHAOS_ENVIRONMENT[name]})")
    chaos.add_argument("--chaos-seed", type=int, metavar="N", help=f"seed of the draws (${CHAOS_ENVIRONMENT['seed']})")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.heartbeat_seconds is not None and args.heartbeat_seconds != 0 and args.heartbeat_seconds < 1:
        parser.error("--heartbeat-seconds must be 0 (never) or at least 1: a beat is named after its second")
    try:
        settings = chaos_settings(args, env)
    except ValueError as error:
        parser.error(str(error))
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    poll = float(env.get("LOCAL_JOURNAL_POLL_SECONDS") or 1.0)  # tests shorten it to stress the journal
    return Options(
        port=args.port,
        aws_port=args.aws_port,
        data_dir=args.data_dir,
        reset=args.reset,
        concurrency=args.concurrency,
        region=region,
        journal_poll_seconds=poll,
        chaos=settings,
        heartbeat_seconds=args.heartbeat_seconds,
    )


def chaos_settings(args: argparse.Namespace, env: Mapping[str, str]) -> ChaosSettings:
    """The preset (`--chaos`, or LOCAL_CHAOS=1) if asked for, then the environment's switches, then the flags'."""
    base = CHAOS_PRESET if args.chaos or env.get("LOCAL_CHAOS") == "1" else ChaosSettings()
    values = vars(ChaosSettings.from_env(env, base)).copy()
    for name in ("duplicate", "fail_before", "fail_midway", "shuffle", "seed"):
        flag = getattr(args, f"chaos_{name}")
        if flag is not None:
            values[name] = flag
    return ChaosSettings(**values)


def banner(runtime: LocalRuntime) -> str:
    api, aws, data = runtime.api_url, runtime.aws_url, runtime.options.data_dir
    region = runtime.options.region
    tables = ", ".join(table.local_name for table in runtime.topology.tables)
    streams = ", ".join(stream.name for stream in runtime.topology.streams)
    queues = runtime.pipeline.queues.notifications.values() if runtime.pipeline else ()
    notifications = "".join(
        f"""
  Notifications  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
                   aws --endpoint-url {aws} --region {region} sqs receive-message --queue-url {url} \\
                   --max-number-of-messages 10"""
        for url in queues
    )
    chaos = runtime.options.chaos
    chaos_line = f"\n  Chaos          {vars(chaos)}" if chaos.enabled else ""
    board = runtime.heartbeats
    heartbeat = f"every {board.interval_seconds:g} s" if board is not None else "off"
    return f"""
  Ledger API     {api}
  OpenAPI        {api}/openapi.json
  AWS (moto)     {aws}   tables: {tables}
                 Kinesis: {streams}
                 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
                   aws --endpoint-url {aws} --region {region} dynamodb scan --table-name ledger-events{notifications}
  Pipeline       python -m local.status --data-dir {data}   (or {data}/{STATUS_FILE}){chaos_line}
  Heartbeat      {heartbeat} (--heartbeat-seconds)
  Data           {data}/ (reloaded on start; --reset starts empty)
  Try            curl -si -X POST {api}/accounts -H 'content-type: application/json' \\
                   -d '{{"owner": "Ada", "initial_balance": 10000}}'
                 make demo
  Ctrl-C stops.

"""


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal received", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    runtime = LocalRuntime(options)
    try:
        runtime.start()
    except (OSError, DataDirInUseError, JournalError, RebuildError) as error:
        log.error("cannot start", extra={"error": str(error)})
        sys.stderr.write(f"cannot start the local runtime: {error}\n")
        return 1
    except Exception:  # what was started is stopped by now; say what happened and fail
        log.exception("cannot start")
        return 1
    sys.stdout.write(banner(runtime))
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
