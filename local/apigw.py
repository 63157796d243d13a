"""API Gateway HTTP API (payload format 2.0) events and Lambda contexts, as the real services build them.

The local runtime turns every HTTP request into such an event and hands it to the very handler function the
deployed Lambda runs; tests use the same builder to call handlers directly.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

_TEXT_TYPES = re.compile(r"^(text/|application/(json|.*\+json|x-www-form-urlencoded|xml))", re.IGNORECASE)


def http_api_event(
    method: str,
    raw_path: str,
    *,
    route_key: str = "$default",
    path_parameters: Mapping[str, str] | None = None,
    raw_query_string: str = "",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    stage: str = "$default",
    domain_name: str = "localhost",
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One request as API Gateway hands it to Lambda: lowercased headers (repeats joined by commas), cookies
    split out, repeated query parameters joined by commas, and a binary body base64-encoded.

    `headers` may be a mapping or (name, value) pairs, where a name can repeat as it can on the wire."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    lowered: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        separator = "; " if key == "cookie" else ","  # two Cookie headers are one list of cookies
        lowered[key] = f"{lowered[key]}{separator}{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now_ms = int(time.time() * 1000)
    request_id = request_id or str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", maxsplit=1)[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000)),
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if authorizer:
        event["requestContext"]["authorizer"] = dict(authorizer)
    if body:
        if _TEXT_TYPES.match(lowered.get("content-type", "application/json")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 10
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    region: str = "us-east-1"
    _deadline_ms: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline_ms = int(time.time() * 1000) + self.timeout_seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))
