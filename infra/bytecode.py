"""The functions' asset: the application package as source plus its bytecode, compiled for the runtime's Python.

Lambda's task root is read-only, so a package shipped without `.pyc` is compiled at every cold start (20-50 ms of our
modules, docs/benchmark.md figure 3). The bytecode must come from the runtime's own minor version (the magic number
differs between them), so the synth compiles with that interpreter when it finds one (`LAMBDA_PYTHON` names it, else
`python3.X` on the PATH, else pyenv's); without one it ships the source alone and says so as a CDK warning: the
deploy still works, its cold starts compile.

The bytecode is `unchecked-hash`: Python loads it without comparing against the source's mtime (an asset's zip does
not keep them) or hash, and the same source always compiles to the same bytes, so the asset's hash (taken of the
output) changes only with the code. Paths inside it are Lambda's (`/var/task/...`), so tracebacks name real files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling

SOURCE: Final = Path(__file__).resolve().parent.parent / "functions"
# Nothing but the application package goes into the zip: no caches, no tests, no build leftovers.
SOURCE_EXCLUDES: Final = (
    "__pycache__",
    "*.py[cod]",
    "tests",
    "test_*.py",
    "*.egg-info",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)
TASK_ROOT: Final = "/var/task"  # where Lambda unpacks the code
INTERPRETER_VARIABLE: Final = "LAMBDA_PYTHON"


def interpreter(version: str) -> str | None:
    """A Python of `version` ("3.13") on this machine: `$LAMBDA_PYTHON` if set (it must be that version), else
    `python3.13` on the PATH, else pyenv's; None when there is none."""
    explicit = os.environ.get(INTERPRETER_VARIABLE)
    candidates: Iterable[str] = [explicit] if explicit else [f"python{version}", *_pyenv_interpreters(version)]
    return next((path for path in candidates if _reports(path, version)), None)


def _pyenv_interpreters(version: str) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"), reverse=True)  # newest patch release first
    return [str(path) for path in found]


def _reports(path: str, version: str) -> bool:
    """Whether `path` runs and is Python `version` (a pyenv shim of another version fails here)."""
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter path of this machine, a fixed statement
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def build(into: Path, *, python: str | None) -> bool:
    """The asset's content in `into` (which may exist, empty): the package's source and, when `python` is given,
    its bytecode from that interpreter. Returns whether bytecode was written."""
    shutil.copytree(SOURCE, into, ignore=shutil.ignore_patterns(*SOURCE_EXCLUDES), dirs_exist_ok=True)
    if python is None:
        return False
    subprocess.run(  # noqa: S603 - the interpreter `interpreter` checked, our own paths
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(into),
            "-p",
            TASK_ROOT,
            str(into),
        ],
        check=True,
        capture_output=True,
    )
    return True


@jsii.implements(ILocalBundling)
class CompiledPackage:
    """CDK local bundling (no Docker): `build` into the asset's output directory."""

    def __init__(self, python: str | None) -> None:
        self._python = python

    def try_bundle(self, output_dir: str, _options: Any) -> bool:
        build(Path(output_dir), python=self._python)
        return True


def bundling(version: str) -> tuple[BundlingOptions, str | None]:
    """The asset's bundling options for a runtime of Python `version`, and the interpreter they compile with."""
    python = interpreter(version)
    options = BundlingOptions(
        image=DockerImage.from_registry("unused-local-bundling-only"),  # never pulled: the local bundler always runs
        # jsii calls try_bundle(output_dir, options) positionally; the generated Protocol spells the options out
        local=CompiledPackage(python),  # type: ignore[arg-type]
    )
    return options, python


ASSET_HASH_TYPE: Final = AssetHashType.OUTPUT  # the hash of what ships, bytecode included
