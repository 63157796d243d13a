"""What the HTTP handler tests share: calling a function's handler with an API Gateway HTTP API event, as the
deployed API would, and reading the error code of a response."""

from __future__ import annotations

import json
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger.entrypoints import commands, queries
from local import apigw
from local.apigw import http_api_event


def call(method: str, path: str, body: Any = None, *, raw: bytes | None = None, **headers: str) -> dict[str, Any]:
    """POSTs go to the command function, every other method to the query function; `headers` are named with '_'
    for '-' (If_Match); the response's parsed body is under "json"."""
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    header_map = {name.replace("_", "-"): value for name, value in headers.items()}
    event = http_api_event(method, path, raw_query_string=query, headers=header_map, body=data)
    handler = commands.lambda_handler if method == "POST" else queries.lambda_handler
    response: dict[str, Any] = handler(event, lambda_context())
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def lambda_context(name: str = "test") -> LambdaContext:
    """The local runtime's Lambda context (the attributes handlers and Powertools read), as the handlers' type."""
    return cast(LambdaContext, apigw.LambdaContext(name))


def error_code(response: dict[str, Any]) -> str:
    return str(response["json"]["error"]["code"])
