"""The functions' asset: the application package with bytecode that the runtime's Python loads as it is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Annotations, Match

from infra.application import build_app
from infra.bytecode import INTERPRETER_VARIABLE, TASK_ROOT, interpreter
from infra.functions import RUNTIME
from tests.infra.template import Synthesized, cdk_context

VERSION = RUNTIME.name.removeprefix("python")  # "3.13"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def _asset(synthesized: Synthesized) -> Path:
    keys = {
        resource["Properties"]["Code"]["S3Key"]
        for resource in synthesized.of_type("AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler", "").startswith("ledger.")
    }
    assert len(keys) == 1, f"every function runs the one asset, found {keys}"
    (key,) = keys
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def _runtime_python() -> str:
    python = interpreter(VERSION)
    assert python is not None, f"this machine has Python {VERSION} (pyenv), which builds the asset's bytecode"
    return python


def test_every_module_of_the_asset_has_bytecode_of_the_runtimes_python(synthesized: Synthesized) -> None:
    # GIVEN the synthesized asset WHEN each module's bytecode is read THEN it is there, for the runtime's minor
    # version (its magic number), hash-based and unchecked (an asset keeps no mtimes), naming Lambda's paths
    asset = _asset(synthesized)
    python = _runtime_python()
    tag = f"cpython-{VERSION.replace('.', '')}"
    magic = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    modules = sorted(asset.rglob("*.py"))
    assert len(modules) > 50
    assert (asset / "ledger" / "entrypoints" / "commands.py") in modules
    for module in modules:
        compiled = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
        header = compiled.read_bytes()[:16]
        assert header[:4].hex() == magic, compiled
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, compiled
    commands = asset / "ledger" / "entrypoints" / "__pycache__" / f"commands.{tag}.pyc"
    filename = subprocess.run(
        [python, "-c", f"import marshal; print(marshal.loads(open({str(commands)!r}, 'rb').read()[16:]).co_filename)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert filename == f"{TASK_ROOT}/ledger/entrypoints/commands.py"


def test_without_the_runtimes_python_the_asset_ships_source_and_the_synth_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN no Python of the runtime's version (LAMBDA_PYTHON names one that does not run) WHEN synthesized
    # THEN the synth still succeeds, with a warning naming the variable, and the asset has no bytecode
    monkeypatch.setenv(INTERPRETER_VARIABLE, str(tmp_path / "no-such-python"))
    assert interpreter(VERSION) is None
    app, stack = build_app(context=cdk_context(), outdir=str(tmp_path))
    assembly = app.synth()
    Annotations.from_stack(Stack.of(stack)).has_warning(
        "*", Match.string_like_regexp(f"No Python {VERSION} found \\(set {INTERPRETER_VARIABLE}")
    )
    assets = [p for p in Path(assembly.directory).glob("asset.*") if (p / "ledger").is_dir()]
    assert len(assets) == 1
    assert list(assets[0].rglob("*.py"))
    assert not list(assets[0].rglob("*.pyc"))
