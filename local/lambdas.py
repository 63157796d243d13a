"""The topology's functions, run as Lambda runs them: each invocation in an execution environment (a worker process,
local/worker.py) that handles one request at a time and is reused; environments are started on demand (a cold
start) up to a concurrency limit, beyond which invocations wait for a free one (Lambda would throttle).

An invocation that raises, times out (the function's timeout from the topology) or kills its process is a function
error: the gateway answers it the way API Gateway does, and a timed-out or dead environment is replaced. The metrics
an invocation logged (embedded metric format: local/worker.py) go to the function's `on_metrics`, as CloudWatch Logs
would make metrics of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra.topology import Function
from local.logs import log

ROOT = Path(__file__).resolve().parent.parent
_INIT_TIMEOUT_SECONDS = 30  # Lambda allows 10 s; a busy laptop importing boto3 in parallel can take longer


def handler_available(handler: str) -> bool:
    """Whether the module of `handler` (`package.module.attribute`) exists under functions/ (the code root, as in
    Lambda) or the repository (test handlers), without importing it."""
    parts = handler.rpartition(".")[0].split(".")
    return any(
        (root.joinpath(*parts).with_suffix(".py")).is_file() or root.joinpath(*parts, "__init__.py").is_file()
        for root in (ROOT / "functions", ROOT)
    )


class FunctionError(Exception):
    """The invocation failed inside the function (unhandled error, timeout, crash): no response was produced."""


OnMetrics = Callable[[list[dict[str, Any]]], None]  # the embedded-metric documents one invocation logged


@dataclass(frozen=True)
class FunctionSpec:
    function: Function
    name: str
    environment: Mapping[str, str]
    region: str
    on_metrics: OnMetrics | None = None


class _Environment:
    """One worker process and the pipe it answers on."""

    def __init__(self, spec: FunctionSpec) -> None:
        read_fd, write_fd = os.pipe()
        function = spec.function
        self._on_metrics = spec.on_metrics
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, arguments from the topology
            [
                sys.executable,
                "-m",
                "local.worker",
                f"--handler={function.handler}",
                f"--function-name={spec.name}",
                f"--memory-mb={function.memory_mb}",
                f"--timeout-seconds={function.timeout_seconds}",
                f"--region={spec.region}",
                f"--response-fd={write_fd}",
            ],
            stdin=subprocess.PIPE,
            env=dict(spec.environment),
            cwd=ROOT,
            pass_fds=(write_fd,),
            start_new_session=True,  # Ctrl-C reaches the runtime only; it stops the workers itself
        )
        os.close(write_fd)
        self._replies: IO[bytes] = os.fdopen(read_fd, "rb")
        started = time.perf_counter()
        try:
            ready = self._receive(_INIT_TIMEOUT_SECONDS)
            if not ready.get("ready"):
                raise FunctionError(f"init failed: {ready.get('error')}")
        except FunctionError:
            self.kill()
            self.end_input()
            self._replies.close()
            raise
        log.info(
            "execution environment started",
            extra={
                "function": spec.name,
                "pid": self.process.pid,
                "init_ms": ready.get("init_ms"),
                "start_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: Mapping[str, Any], request_id: str, timeout: float) -> Any:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"event": event, "request_id": request_id}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError as error:
            raise FunctionError(f"the execution environment is gone: {error}") from error
        reply = self._receive(timeout)
        if reply.get("metrics") and self._on_metrics is not None:
            self._on_metrics(reply["metrics"])
        if "error" in reply:
            raise FunctionError(f"{reply['error'].get('errorType')}: {reply['error'].get('errorMessage')}")
        return reply.get("result")

    def _receive(self, timeout: float) -> dict[str, Any]:
        ready, _, _ = select.select([self._replies], [], [], timeout)
        if not ready:
            self.kill()
            raise FunctionError(f"Task timed out after {timeout:.2f} seconds")
        line = self._replies.readline()
        if not line:
            self.kill()
            raise FunctionError(f"the execution environment exited (code {self.process.poll()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def end_input(self) -> None:
        """Close stdin: the worker finishes its invocation, if any, and exits."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):  # it may have died
                self.process.stdin.close()

    def stop(self, timeout: float = 5) -> None:
        self.end_input()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._replies.close()

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()


class FunctionPool:
    """The execution environments of one function."""

    def __init__(self, spec: FunctionSpec, max_concurrency: int) -> None:
        self.spec = spec
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._idle: list[_Environment] = []  # most recently used last: reused first, as Lambda tends to
        self._all: set[_Environment] = set()
        self._lock = threading.Lock()
        self._closed = False

    def invoke(self, event: Mapping[str, Any], request_id: str) -> Any:
        """The handler's return value for `event`; FunctionError when the function failed."""
        with self._slots:
            environment = self._checkout()
            healthy = False
            try:
                result = environment.invoke(event, request_id, self.spec.function.timeout_seconds)
                healthy = True
            finally:
                self._checkin(environment, healthy=healthy or environment.alive)
            return result

    def _checkout(self) -> _Environment:
        with self._lock:
            if self._closed:
                raise FunctionError("the runtime is shutting down")
            while self._idle:
                environment = self._idle.pop()
                if environment.alive:
                    return environment
                self._all.discard(environment)
        environment = _Environment(self.spec)  # a cold start, outside the lock: others keep using warm ones
        with self._lock:
            self._all.add(environment)
        return environment

    def _checkin(self, environment: _Environment, *, healthy: bool) -> None:
        with self._lock:
            if healthy and not self._closed:
                self._idle.append(environment)
                return
            self._all.discard(environment)
        environment.stop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            environments, self._idle = list(self._all), []
            self._all.clear()
        for environment in environments:  # all told first, then awaited: they exit in parallel
            environment.end_input()
        for environment in environments:
            environment.stop()
