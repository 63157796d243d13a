"""API Gateway HTTP API route selection over the topology's routes.

A route `METHOD /path/{param}` matches a request with that method whose path has the same segments, `{param}`
matching any one segment and `{param+}` the rest of the path; the most specific route wins (most literal segments,
greedy last). A request no route matches goes to the `$default` route (the function with `default_route=True`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from infra.topology import Function, Route, Topology

_PARAMETER = re.compile(r"^\{([A-Za-z0-9_]+)(\+?)\}$")


@dataclass(frozen=True)
class Match:
    route_key: str
    function: Function
    path_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    function: Function
    pattern: re.Pattern[str]
    specificity: tuple[int, int]  # (not greedy, literal segments): higher wins


class Router:
    def __init__(self, topology: Topology) -> None:
        self._routes = sorted(
            (_compile(route, function) for function in topology.functions for route in function.routes),
            key=lambda compiled: compiled.specificity,
            reverse=True,
        )
        self._default = topology.default_function

    def match(self, method: str, raw_path: str) -> Match:
        for compiled in self._routes:
            if compiled.route.method not in (method.upper(), "ANY"):
                continue
            found = compiled.pattern.fullmatch(raw_path)
            if found:
                parameters = {name: unquote(value) for name, value in found.groupdict().items()}
                return Match(compiled.route.key, compiled.function, parameters)
        return Match("$default", self._default)


def _compile(route: Route, function: Function) -> _CompiledRoute:
    parts, literals, greedy = [], 0, False
    for segment in route.path.strip("/").split("/"):
        parameter = _PARAMETER.match(segment)
        if parameter is None:
            parts.append(re.escape(segment))
            literals += 1
        elif parameter.group(2):
            parts.append(f"(?P<{parameter.group(1)}>.+)")
            greedy = True
        else:
            parts.append(f"(?P<{parameter.group(1)}>[^/]+)")
    return _CompiledRoute(route, function, re.compile("/" + "/".join(parts)), (0 if greedy else 1, literals))
