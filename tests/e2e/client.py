"""A small HTTP client for the e2e suite: stdlib urllib, optional SigV4 signing, never raises on an HTTP status."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

Signer = Callable[[str, str, bytes | None, dict[str, str]], dict[str, str]]


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes
    json: Any = field(default=None)  # the parsed body, None when it is not JSON

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def error_code(self) -> str | None:
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            code = self.json["error"].get("code")
            return str(code) if code is not None else None
        return None


class ApiClient:
    def __init__(self, base_url: str, signer: Signer | None = None, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self._timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Send one request; `json_body` is serialized (with Content-Type: application/json), `body` sent as is."""
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        url = self.base_url + path
        if self._signer is not None:
            all_headers = self._signer(method, url, body, all_headers)
        request = Request(url, data=body, method=method, headers=all_headers)
        try:
            with urlopen(request, timeout=self._timeout) as response:
                return _response(response.status, dict(response.headers.items()), response.read())
        except HTTPError as error:
            with error:
                return _response(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, json_body: Any = None, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        if json_body is None and body is None:
            body = b""
        return self.request("POST", path, json_body=json_body, body=body, headers=headers)


def _response(status: int, headers: dict[str, str], body: bytes) -> ApiResponse:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return ApiResponse(status, {name.lower(): value for name, value in headers.items()}, body, parsed)


def sigv4_signer(region: str | None = None) -> Signer:
    """Signs requests for an API Gateway with IAM authorization, with the credentials boto3 would use."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.session import Session

    credentials = Session().get_credentials()
    if credentials is None:
        raise RuntimeError("E2E_SIGV4=1 needs AWS credentials (environment, profile or SSO)")
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def sign(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def unique_id(prefix: str = "e2e") -> str:
    """An account id no other test (or earlier run against the same API) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
