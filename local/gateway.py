"""The HTTP API on 127.0.0.1: what API Gateway (HTTP API, payload format 2.0) does in front of the functions.

Each request is matched to a topology route (or `$default`), turned into the API Gateway event (local/apigw.py) and
handed to the function's handler in an execution environment (local/lambdas.py); the handler's result becomes the
HTTP response. The gateway's own refusals use API Gateway's shape, {"message": "..."}: 413 over 10 MB, 500 when the
function fails (unhandled error, timeout, malformed result).

After each request that may write (any method but GET, HEAD, OPTIONS), `after_write` runs before the response is
sent: the runtime's journal puts the request's writes on disk there.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import urlsplit

from local.apigw import http_api_event
from local.lambdas import FunctionError, FunctionPool
from local.logs import log
from local.routing import Router

MAX_PAYLOAD_BYTES: Final = 10 * 1024 * 1024  # API Gateway's request payload limit
_DISCARD_LIMIT: Final = 64 * 1024 * 1024  # beyond this, an oversized body is not read, the connection is closed
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_HOP_BY_HOP: Final = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"})


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def gateway_error(cls, status: HTTPStatus) -> HttpResponse:
        body = json.dumps({"message": status.phrase}).encode()
        return cls(status, [("Content-Type", "application/json")], body)


class InvalidResultError(ValueError):
    """The handler returned something API Gateway cannot turn into a response."""


def to_http_response(result: Any) -> HttpResponse:
    """A handler's return value as API Gateway (payload format 2.0) answers it."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        # Format 2.0 infers a response from any other JSON value: 200, application/json, the value as the body.
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], text.encode())
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidResultError(f"statusCode {status!r} is not an HTTP status")
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw = result.get("body")
    if raw is None:
        body = b""
    elif not isinstance(raw, str):
        raise InvalidResultError("body is not a string")
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = raw.encode("utf-8")
    return HttpResponse(status, [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP], body)


class Gateway:
    def __init__(
        self,
        host: str,
        port: int,
        router: Router,
        pools: Mapping[str, FunctionPool],
        *,
        after_write: Callable[[], object] = lambda: None,
    ) -> None:
        self.router = router
        self.pools = pools
        self.after_write = after_write
        try:
            self._server = _Server((host, port), _Handler, self)
        except OSError as error:
            raise OSError(
                error.errno, f"cannot listen on {host}:{port} for the API (--port, $PORT): {error.strerror}"
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="gateway", daemon=True)
        self._in_flight = 0
        self._idle = threading.Condition()
        self.closing = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace_seconds: float = 30) -> None:
        """Stop accepting requests, let the ones in flight finish, close."""
        self.closing = True
        if self._thread.is_alive():  # shutdown() waits for serve_forever, forever if it never ran
            self._server.shutdown()
        deadline = time.monotonic() + grace_seconds
        with self._idle:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def handle(self, request: _Request) -> HttpResponse:
        with self._idle:
            self._in_flight += 1
        try:
            return self._handle(request)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _handle(self, request: _Request) -> HttpResponse:
        if request.body is None:
            return HttpResponse.gateway_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        match = self.router.match(request.method, request.raw_path)
        request.route_key = match.route_key
        event = http_api_event(
            request.method,
            request.raw_path,
            route_key=match.route_key,
            path_parameters=match.path_parameters or None,
            raw_query_string=request.raw_query,
            headers=request.headers,
            body=request.body,
            source_ip=request.source_ip,
            request_id=request.request_id,
            domain_name=request.host,
        )
        try:
            result = self.pools[match.function.id].invoke(event, str(uuid.uuid4()))
            response = to_http_response(result)
        except (FunctionError, InvalidResultError) as error:
            log.error(
                "function error",
                extra={"function": match.function.id, "request_id": request.request_id, "error": str(error)},
            )
            response = HttpResponse.gateway_error(HTTPStatus.INTERNAL_SERVER_ERROR)
        if request.method not in _SAFE_METHODS:
            try:
                self.after_write()
            except Exception:
                log.exception("journal write failed", extra={"request_id": request.request_id})
                response = HttpResponse.gateway_error(HTTPStatus.INTERNAL_SERVER_ERROR)
        response.headers.append(("apigw-requestid", request.request_id))
        return response


@dataclass
class _Request:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes | None  # None: over the payload limit
    source_ip: str
    host: str
    request_id: str = field(default_factory=lambda: base64.b32encode(uuid.uuid4().bytes[:10]).decode())
    route_key: str = "-"


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold the process; `Gateway.stop` drains requests
    request_queue_size = 128  # socketserver's default of 5 resets connections when clients arrive together

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a connection may sit idle or stall mid-request
    server: _Server

    def _serve(self) -> None:
        started = time.perf_counter()
        gateway = self.server.gateway
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError:  # a malformed chunked body
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        request = _Request(
            method=self.command,
            raw_path=url.path or "/",
            raw_query=url.query,
            headers=[*self.headers.items(), *self._forwarded_headers()],
            body=body,
            source_ip=self.client_address[0],
            host=(self.headers.get("Host") or "localhost").rsplit(":", 1)[0],
        )
        response = gateway.handle(request)
        if gateway.closing or request.body is None:
            self.close_connection = True
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.raw_path,
                "route_key": request.route_key,
                "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "request_id": request.request_id,
            },
        )

    # BaseHTTPRequestHandler dispatches on these names; API Gateway forwards every method (one no route has goes to
    # the $default route, whose function answers 405 for a known path).
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = do_QUERY = _serve  # noqa: N815

    def _forwarded_headers(self) -> list[tuple[str, str]]:
        present = {name.lower() for name in self.headers}
        added = {
            "x-forwarded-for": self.client_address[0],
            "x-forwarded-port": str(self.server.server_address[1]),
            "x-forwarded-proto": "http",
            "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        }
        return [(name, value) for name, value in added.items() if name not in present]

    def _read_body(self) -> bytes | None:
        """The request body; None when it is over API Gateway's limit (then read and dropped, or not read)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_PAYLOAD_BYTES:
            self._discard(length)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        chunks, size = [], 0
        while True:
            line = self.rfile.readline(1024)
            chunk_size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if chunk_size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                break
            size += chunk_size
            if size > _DISCARD_LIMIT:
                self.close_connection = True
                return None
            chunk = self.rfile.read(chunk_size)
            if size <= MAX_PAYLOAD_BYTES:
                chunks.append(chunk)
            self.rfile.readline(8)  # the CRLF after the chunk
        return None if size > MAX_PAYLOAD_BYTES else b"".join(chunks)

    def _discard(self, length: int) -> None:
        if length > _DISCARD_LIMIT:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Replaced by the structured line `_serve` writes."""

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("http error", extra={"detail": format % args, "client": self.client_address[0]})
