"""The kernel is generic: none of its modules names an aggregate in code (identifiers and strings); comments and
docstrings may use one as an example. What `rg -i account` over them would show, as a test that fails on a slip."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LEDGER = Path(__file__).resolve().parents[3] / "functions" / "ledger"
KERNEL_MODULES = sorted(
    [
        *(LEDGER / "kernel").glob("*.py"),  # records, codec, aggregate, service, repository, reader, projections...
        LEDGER / "adapters" / "dynamodb_event_store.py",
        LEDGER / "adapters" / "memory_event_store.py",
        LEDGER / "adapters" / "dynamodb_state_views.py",
        LEDGER / "adapters" / "dynamodb_items.py",
        LEDGER / "adapters" / "dynamodb_tables.py",
        LEDGER / "adapters" / "kinesis_bus.py",
        LEDGER / "bootstrap.py",  # the composition root
        LEDGER / "rebuild.py",  # the rebuild command
        LEDGER / "entrypoints" / "publisher.py",
        LEDGER / "entrypoints" / "projector.py",
        LEDGER / "entrypoints" / "streams.py",
    ]
)
AGGREGATE_WORDS = ("account", "deposit", "withdraw", "balance")


def names_in_code(source: str) -> list[str]:
    """Every identifier and every string that is not a docstring (comments are not in the tree at all)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            found.append(node.attr)
        elif isinstance(node, ast.arg | ast.keyword):
            found.append(node.arg or "")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append(node.name)
        elif isinstance(node, ast.alias):
            found.append(node.name)
            found.append(node.asname or "")
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append(node.value)
    return found


def test_the_check_sees_identifiers_and_strings_but_not_comments_or_docstrings() -> None:
    source = '"""An account, for example."""\n# the account\nbalance = f(account_id=1, x="Account")\n'
    assert [n for n in names_in_code(source) if "ccount" in n or "alance" in n] == ["balance", "account_id", "Account"]


@pytest.mark.parametrize("module", KERNEL_MODULES, ids=lambda path: str(path.relative_to(LEDGER)))
def test_no_kernel_module_names_an_aggregate_in_code(module: Path) -> None:
    named = [
        name for name in names_in_code(module.read_text()) if any(word in name.lower() for word in AGGREGATE_WORDS)
    ]
    assert named == []
