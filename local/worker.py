"""One Lambda execution environment: a process that imports a handler once, then runs one invocation at a time.

Started by local/lambdas.py as `python -m local.worker --handler module.attribute --response-fd N ...` with the
function's environment. Protocol: one JSON object a line; invocations {"event", "request_id"} arrive on stdin;
{"ready", "init_ms"} once the handler is imported, then {"result"} or {"error": {"errorType", "errorMessage"}} per
invocation go to file descriptor N (stdout stays the function's log, as in Lambda). The process ends when stdin
closes.

A process per environment, as in Lambda, because handlers keep per-invocation state in module globals: Powertools'
resolvers keep the current event on a class attribute, so two threads running handlers in one process would read
each other's requests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from local.apigw import LambdaContext

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

Handler = Callable[[dict[str, Any], Any], Any]


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
                _send(out, reply)
            except Exception as error:
                _log_error("Runtime.UnhandledError", error, request["request_id"])
                _send(out, {"error": _error(error)})
    return 0


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
