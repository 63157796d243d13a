"""docs/pipeline.md shows every event source mapping with the topology's settings and reasons, so it cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.topology import TOPOLOGY, EventSource, Function

PIPELINE_DOC = Path(__file__).resolve().parents[2] / "docs" / "pipeline.md"
MAPPINGS = [(function, source) for function in TOPOLOGY.functions for source in function.event_sources]
MAPPING = pytest.mark.parametrize(
    ("function", "source"), MAPPINGS, ids=[f"{f.id}-{s.kind}-{s.source}" for f, s in MAPPINGS]
)


def _source(source: EventSource) -> str:
    if source.kind == "dynamodb":
        return f"DynamoDB stream of `{source.source}`"
    return f"Kinesis `{TOPOLOGY.stream(source.source).name}`"


@MAPPING
def test_settings_table_row_matches_the_topology(function: Function, source: EventSource) -> None:
    filters = ", ".join(f"`{json.dumps(p, separators=(',', ':'))}`" for p in source.filters) or "none"
    row = (
        f"| `{function.id}` | {_source(source)} | {source.batch_size} | {source.max_batching_window_seconds} s | "
        f"{source.retry_attempts} | {source.max_record_age_seconds} s | {'yes' if source.bisect_on_error else 'no'} | "
        f"{source.parallelization_factor} | {source.starting_position} | {filters} |"
    )
    assert row in PIPELINE_DOC.read_text(encoding="utf-8").splitlines()


@MAPPING
def test_the_reason_for_the_settings_is_written_down(function: Function, source: EventSource) -> None:
    line = f"- **`{function.id}`** ({_source(source)}): {source.rationale}"
    assert line in PIPELINE_DOC.read_text(encoding="utf-8").splitlines()


def test_the_least_privilege_table_has_a_row_for_every_function() -> None:
    # GIVEN the table of what each function may do THEN every topology function has its row (the heartbeat's too)
    lines = PIPELINE_DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("| Function | May | On |") + 2
    rows = lines[start : lines.index("", start)]
    named = [name for row in rows for name in re.findall(r"`([a-z-]+)`", row.split(" | ")[0])]
    assert sorted(named) == sorted(function.id for function in TOPOLOGY.functions)
