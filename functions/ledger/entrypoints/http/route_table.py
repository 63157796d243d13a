"""The API's routes as a table (the operations, which tests hold equal to the topology's routes), for what a request
that matched no route deserves: 405 with Allow when its path is a route's with another method, 404 otherwise.

On API Gateway an HTTP API sends a request no route matches, whatever the reason, to the `$default` route: the
query function, whose not-found handler asks this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ledger.entrypoints.http.errors import FieldError
from ledger.entrypoints.http.openapi import OPERATIONS, PATH_PARAMETERS
from ledger.entrypoints.http.validation import validate


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    parameters: dict[str, dict[str, Any]]  # the schema of each path parameter


@cache
def _routes() -> tuple[_Route, ...]:
    routes = []
    for operation in OPERATIONS:
        names = re.findall(r"\{(\w+)\}", operation.path)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(operation.path))
        routes.append(_Route(operation.method, re.compile(pattern), {name: PATH_PARAMETERS[name] for name in names}))
    return tuple(routes)


def allowed_methods(path: str) -> list[str]:
    """The methods of the routes whose path template `path` fits ({id}: any one segment), in a stable order."""
    return sorted({route.method for route in _routes() if route.pattern.fullmatch(path)})


def parameter_errors(method: str, path: str) -> list[FieldError]:
    """What is wrong with the path parameters of a `method` request to `path` that fits a route's template but that
    the function could not route (a value with characters no route accepts, e.g. a decoded '"')."""
    errors: list[FieldError] = []
    for route in _routes():
        found = route.pattern.fullmatch(path)
        if route.method == method and found:
            for name, schema in route.parameters.items():
                errors += validate(found.group(name), schema, where=name)
    return errors
