"""The benchmark's result: one row per figure (metric, value, target, verdict), notes, and two renderings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["pass", "FAIL", "info"]
Note = tuple[int, str]  # (figure, text)


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str
    verdict: Verdict
    figure: int
    number: float | None = None  # the value as a number, for --json readers


def count(number: int, thing: str) -> str:
    """e.g. '1 batch', '2 batches'."""
    plural = thing + ("es" if thing.endswith(("s", "ch")) else "s")
    return f"{number:,} {thing if number == 1 else plural}"


def judged(passed: bool) -> Verdict:
    return "pass" if passed else "FAIL"


@dataclass
class Report:
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # where the time goes when a figure misses, and caveats
    details: dict[str, Any] = field(default_factory=dict)  # raw measurements, for --json

    def table(self) -> str:
        header = ("metric", "value", "target", "result")
        lines = [(r.metric, r.value, r.target, r.verdict) for r in self.rows]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(4)]

        def render(cells: tuple[str, str, str, str]) -> str:
            return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
        return "\n".join([render(header), rule, *(render(line) for line in lines)])

    def text(self) -> str:
        machine = ", ".join(f"{key} {value}" for key, value in self.machine.items())
        parts = [f"Machine: {machine}", "", self.table()]
        if self.notes:
            parts += ["", "Notes:", *(f"- {note}" for note in self.notes)]
        return "\n".join(parts)

    def json(self) -> str:
        return json.dumps(
            {
                "machine": self.machine,
                "rows": [asdict(row) for row in self.rows],
                "notes": self.notes,
                "details": self.details,
            },
            indent=2,
        )
