"""`python -m local.status [--data-dir .local] [--json]`: what the running local runtime's event source mappings have
done, and when each one's consumer last noted the pipeline's heartbeat, from the status file it rewrites every second
(`<data-dir>/pipeline-status.json`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from local.pipeline import STATUS_FILE

COLUMNS = (
    ("read", "read"),
    ("filtered_out", "filtered"),
    ("delivered", "delivered"),
    ("done", "done"),
    ("invocations", "invocations"),
    ("failed_invocations", "failed"),
    ("partial_failures", "partial"),
    ("retries", "retries"),
    ("bisections", "bisections"),
    ("discarded_records", "to DLQ"),
    ("pending", "pending"),
)


def render(status: dict[str, Any], now: float) -> str:
    width = max([len("mapping"), *(len(m["mapping"]) for m in status["mappings"])])
    header = f"{'mapping':<{width}}  " + "  ".join(f"{title:>{max(len(title), 6)}}" for _, title in COLUMNS)
    lines = [header]
    for mapping in status["mappings"]:
        cells = "  ".join(f"{mapping[key]:>{max(len(title), 6)}}" for key, title in COLUMNS)
        lines.append(f"{mapping['mapping']:<{width}}  {cells}")
        chaos = mapping.get("chaos") or {}
        if chaos:
            lines.append(f"{'':<{width}}  chaos: " + ", ".join(f"{k} {v}" for k, v in sorted(chaos.items())))
    lines += _heartbeat(status.get("heartbeat"), now)
    state = "quiet" if status["quiet"] else "busy"
    lines.append(
        f"\n{state}; {status['notifications_logged']} notifications logged; "
        f"written {now - status['written_at']:.1f} s ago"
    )
    return "\n".join(lines)


def _heartbeat(heartbeat: dict[str, Any] | None, now: float) -> list[str]:
    """Per mapping: when its consumer last noted the heartbeat, how many it noted, and OVERDUE when none came for
    as long as the deployed alarm allows."""
    if heartbeat is None:
        return ["\nheartbeat: off"]
    rows = heartbeat["mappings"]
    width = max([len("mapping"), *(len(row["mapping"]) for row in rows)])
    lines = [
        f"\nheartbeat every {heartbeat['every_seconds']:g} s; overdue after {heartbeat['overdue_after_seconds']:g} s "
        "without one",
        f"{'mapping':<{width}}  {'last noted':>12}  {'beats':>6}  state",
    ]
    for row in rows:
        last = "never" if row["last_at"] is None else f"{now - row['last_at']:.1f} s ago"
        state = "OVERDUE" if row["overdue"] else "ok"
        lines.append(f"{row['mapping']:<{width}}  {last:>12}  {row['beats']:>6}  {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.status", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR") or ".local"))
    parser.add_argument("--json", action="store_true", help="the status file as it is")
    args = parser.parse_args(argv)
    path = args.data_dir / STATUS_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        sys.stderr.write(f"no {path}: is a local runtime (make run) using {args.data_dir}?\n")
        return 1
    sys.stdout.write(text if args.json else render(json.loads(text), time.time()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
