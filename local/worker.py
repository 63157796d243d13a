"""One Lambda execution environment: a process that imports a handler once, then runs one invocation at a time.

Started by local/lambdas.py as `python -m local.worker --handler module.attribute --response-fd N ...` with the
function's environment. Protocol: one JSON object a line; invocations {"event", "request_id"} arrive on stdin;
{"ready", "init_ms"} once the handler is imported, then {"result"} or {"error": {"errorType", "errorMessage"}} per
invocation go to file descriptor N (stdout stays the function's log, as in Lambda). The process ends when stdin
closes.

The metrics the function logs in CloudWatch's embedded metric format (a JSON line with `_aws`: Powertools' metrics)
go on to the log like any line, and also back with the invocation's answer (`"metrics": [...]`): what CloudWatch Logs
would extract from the deployed function's log, which the runtime reads the heartbeat from (local/heartbeats.py).

A process per environment, as in Lambda, because handlers keep per-invocation state in module globals: Powertools'
resolvers keep the current event on a class attribute, so two threads running handlers in one process would read
each other's requests.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TextIO

from local.apigw import LambdaContext

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

Handler = Callable[[dict[str, Any], Any], Any]


class MetricsTap(io.TextIOBase):
    """The function's stdout: every write goes on to `out`; the embedded-metric documents among the lines are also
    kept until `take` collects them."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out
        self._documents: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        if '"_aws"' in text:
            self._documents += [d for d in map(_metrics_document, text.splitlines()) if d is not None]
        return self._out.write(text)

    def flush(self) -> None:
        self._out.flush()

    def fileno(self) -> int:
        return self._out.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._out.encoding

    def writable(self) -> bool:
        return True

    def take(self) -> list[dict[str, Any]]:
        documents, self._documents = self._documents, []
        return documents


def _metrics_document(line: str) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) and isinstance(document.get("_aws"), dict) else None


def load_handler(path: str) -> Handler:
    """`ledger.entrypoints.commands.lambda_handler` -> the function (functions/ is the code root, as in Lambda)."""
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    module_name, _, attribute = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--timeout-seconds", type=int, default=10)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--response-fd", type=int, required=True)
    args = parser.parse_args(argv)

    tap = MetricsTap(sys.stdout)
    sys.stdout = tap  # before the handler's import: its loggers keep the stream they are given then
    with open(args.response_fd, "w", encoding="utf-8", closefd=True) as out:
        started = time.perf_counter()
        try:
            handler = load_handler(args.handler)
        except Exception as error:
            _log_error("Runtime.ImportModuleError", error)
            _send(out, {"error": _error(error)})
            return 1
        _send(out, {"ready": True, "init_ms": round((time.perf_counter() - started) * 1000, 1)})
        for line in sys.stdin:
            request = json.loads(line)
            context = LambdaContext(
                function_name=args.function_name,
                memory_limit_in_mb=args.memory_mb,
                timeout_seconds=args.timeout_seconds,
                aws_request_id=request["request_id"],
                region=args.region,
            )
            try:
                reply: dict[str, Any] = {"result": handler(request["event"], context)}
                _send(out, _with_metrics(reply, tap))
            except Exception as error:
                _log_error("Runtime.UnhandledError", error, request["request_id"])
                _send(out, _with_metrics({"error": _error(error)}, tap))
    return 0


def _with_metrics(reply: dict[str, Any], tap: MetricsTap) -> dict[str, Any]:
    metrics = tap.take()
    return {**reply, "metrics": metrics} if metrics else reply


def _send(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, separators=(",", ":")) + "\n")
    out.flush()


def _log_error(kind: str, error: BaseException, request_id: str | None = None) -> None:
    """The error as one JSON line on stderr, the way Lambda's Python runtime logs an unhandled exception."""
    line = {
        "level": "ERROR",
        "message": kind,
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "requestId": request_id,
        "stackTrace": traceback.format_exception(error),
    }
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()


def _error(error: BaseException) -> dict[str, str]:
    return {"errorType": type(error).__name__, "errorMessage": str(error)}


if __name__ == "__main__":
    sys.exit(main())
