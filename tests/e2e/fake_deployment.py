"""What the deployed dashboard page talks to, stood in for on 127.0.0.1 so the browser test can drive its sign-in:

- the page's host (CloudFront): index.html and the config.json a deploy writes next to it;
- a Cognito hosted UI that signs anyone in with the authorization code grant, checking PKCE (S256) as Cognito does:
  the code is redeemed only with the verifier whose SHA-256 is the challenge it was issued for;
- the dashboard API: it wants an ID token issued and not revoked (`Authorization: Bearer`), answers CORS for the
  page's origin only, and passes the request on to the local runtime.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qsl, urlencode, urlsplit
from urllib.request import urlopen

CLIENT_ID = "dashboard-page-client"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass
class FakeDeployment:
    page: Path
    runtime_url: str
    authorizations: list[dict[str, str]] = field(default_factory=list)  # the query of each /oauth2/authorize
    token_requests: list[dict[str, str]] = field(default_factory=list)  # the form of each /oauth2/token
    api_authorizations: list[str | None] = field(default_factory=list)  # Authorization of each API GET
    issued: list[str] = field(default_factory=list)  # ID tokens, newest last
    revoked: set[str] = field(default_factory=set)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def __enter__(self) -> FakeDeployment:
        for route in (self._site, self._cognito, self._api):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(route))
            threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
            self._servers.append(server)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self._servers[index].server_address[1]}"

    @property
    def site_url(self) -> str:
        return self.url(0)

    @property
    def cognito_url(self) -> str:
        return self.url(1)

    @property
    def api_url(self) -> str:
        return self.url(2)

    @property
    def redirect_uri(self) -> str:
        return f"{self.site_url}/index.html"

    def revoke(self) -> None:
        """From now on the API refuses every token issued so far (401)."""
        self.revoked.update(self.issued)

    # --- the three servers: (method, path, query, headers, body) -> (status, headers, body) -------------------

    def _site(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        if path == "/index.html":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.page.read_bytes()
        if path == "/config.json":
            config = {
                "api": self.api_url,
                "auth": {
                    "domain": self.cognito_url,
                    "client_id": CLIENT_ID,
                    "redirect_uri": self.redirect_uri,
                    "scopes": ["openid", "email"],
                },
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(config).encode()
        return 404, {}, b""

    def _cognito(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        if method == "GET" and path == "/oauth2/authorize":
            self.authorizations.append(query)
            code = uuid.uuid4().hex
            self._codes[code] = query
            return (
                302,
                {"Location": f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"},
                b"",
            )
        if method == "POST" and path == "/oauth2/token":
            form = dict(parse_qsl(body.decode()))
            self.token_requests.append(form)
            cors = {"Access-Control-Allow-Origin": self.site_url, "Content-Type": "application/json"}
            request = self._codes.pop(form.get("code", ""), None)
            redeemable = (
                request is not None
                and form.get("grant_type") == "authorization_code"
                and form.get("client_id") == request["client_id"] == CLIENT_ID
                and form.get("redirect_uri") == request["redirect_uri"]
                and request.get("code_challenge_method") == "S256"
                and s256(form.get("code_verifier", "")) == request["code_challenge"]
            )
            if not redeemable:
                return 400, cors, b'{"error": "invalid_grant"}'
            self.issued.append(f"id-token-{len(self.issued) + 1}")
            tokens = {"id_token": self.issued[-1], "access_token": "access", "expires_in": 3600, "token_type": "Bearer"}
            return 200, cors, json.dumps(tokens).encode()
        return 404, {}, b""

    def _api(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        cors = {"Access-Control-Allow-Origin": self.site_url}
        if method == "OPTIONS":  # the preflight of a GET with Authorization
            allowed = {"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Headers": "authorization"}
            return 204, {**cors, **allowed}, b""
        self.api_authorizations.append(headers.get("authorization"))
        token = (headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return 401, {**cors, "Content-Type": "application/json"}, b'{"message":"Unauthorized"}'
        target = self.runtime_url + path + (f"?{urlencode(query)}" if query else "")
        try:
            with urlopen(target, timeout=30) as response:
                return response.status, {**cors, "Content-Type": "application/json"}, response.read()
        except HTTPError as error:
            return error.code, {**cors, "Content-Type": "application/json"}, error.read()


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[str, str, dict[str, str], dict[str, str], bytes], Answer]


def _handler(route: Route) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer_headers, content = route(self.command, url.path, dict(parse_qsl(url.query)), headers, body)
            self.send_response(status)
            for name, value in {**answer_headers, "Content-Length": str(len(content))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_OPTIONS = _answer  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
