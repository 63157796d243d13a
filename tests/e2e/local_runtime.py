"""The local runtime (`python -m local`) as a subprocess on free ports, for the e2e suite."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.error import URLError

from tests.e2e.client import ApiClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalRuntime:
    """`python -m local --port P --aws-port Q --data-dir DIR [--reset]`, its output in DIR/../<name>.log."""

    def __init__(
        self,
        data_dir: Path,
        *,
        reset: bool,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.data_dir = data_dir
        self.reset = reset
        self.env = dict(env or {})
        self.args = list(args)
        self.port = free_port()
        self.aws_port = free_port()
        self.log_path = log_path or data_dir.with_name(f"{data_dir.name}-{self.port}.log")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def client(self) -> ApiClient:
        return ApiClient(self.base_url)

    def aws(self, service: str) -> Any:
        """A boto3 client of the runtime's moto."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def tool(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """An operator's tool against this runtime, as `make rebuild` / `make verify-archive` run it
        (`python -m local.tools <module> ...`)."""
        return subprocess.run(
            [sys.executable, "-m", "local.tools", *arguments],
            env={**os.environ, "AWS_PORT": str(self.aws_port)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        """The pipeline's status file (local/pipeline.py), {} before it is first written."""
        try:
            status: dict[str, Any] = json.loads((self.data_dir / "pipeline-status.json").read_text())
        except (FileNotFoundError, ValueError):  # not yet written, or replaced while read
            return {}
        return status

    def wait_until_quiet(self, timeout: float = 60) -> dict[str, Any]:
        """Wait until every event source mapping is idle and has looked for new records since the last invocation
        ended anywhere, all of it after this call: everything written before it has gone through the pipeline.
        Returns that status."""
        since = time.time()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status.get("quiet") and status["idle_checked_at"] > since:
                return status
            time.sleep(0.2)
        raise AssertionError(f"the pipeline was not quiet within {timeout} s: {self.status()}")

    def start(self, timeout: float = 90, attempts: int = 3) -> LocalRuntime:
        """Start and wait for /health; free ports are only free until someone takes them, so a start that loses
        its port is retried on new ones."""
        for attempt in range(1, attempts + 1):
            command = [sys.executable, "-m", "local", f"--port={self.port}", f"--aws-port={self.aws_port}"]
            command += [f"--data-dir={self.data_dir}", *(["--reset"] if self.reset else []), *self.args]
            env = {**os.environ, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", **self.env}
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                self._wait_healthy(timeout)
            except RuntimeError:
                if attempt == attempts or "Address already in use" not in self.log_tail():
                    raise
                self.port, self.aws_port = free_port(), free_port()
            else:
                return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_healthy(self, timeout: float) -> None:
        client = ApiClient(self.base_url, timeout=5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the local runtime exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if client.get("/health").status == 200:
                    return
            except (URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the local runtime did not become healthy in {timeout} s:\n{self.log_tail()}")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 60) -> int:
        """Send `sig` (Ctrl-C by default) and wait for the exit; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise RuntimeError(
                    f"the local runtime ignored {sig.name} for {timeout} s:\n{self.log_tail()}"
                ) from None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything (a crash or a power cut, as far as this process knows)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> LocalRuntime:
        return self.start() if self.process is None else self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.stop()
            except RuntimeError:
                self.kill()
