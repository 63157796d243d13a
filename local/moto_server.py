"""moto in server mode, in this process, one request at a time.

moto's DynamoDB is not thread-safe: two threads can both pass an `attribute_not_exists` condition, and a cancelled
TransactWriteItems restores a copy of each table taken before it started, dropping whatever another thread wrote
in between. DynamoDB itself makes each item write atomic; serializing every request is a coarser version of that
guarantee, and cheap for one developer's traffic.

`stream_records` reads a table's stream in process, under the same lock, for the journal and the stream pollers of
the event source mappings (local/dynamodb_streams.py). Through the Streams API it
would take two requests (GetShardIterator, then GetRecords), and a transaction cancelled between them replaces the
table and its stream with the copy taken before it: the iterator would still read the old stream, and hand out a
write that was rolled back while the write that next takes its sequence number is skipped.
"""

from __future__ import annotations

import copy
import errno
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

from werkzeug.serving import BaseWSGIServer, make_server

from local.aws_calls import recording
from local.logs import log
from local.moto_transactions import install as install_light_transactions

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MOTO_ACCOUNT_ID: Final = "123456789012"  # the account moto files requests under when credentials name none


class SerializedApp:
    """A WSGI app that runs `app` for one request at a time, the response body included."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            result = self._app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class MotoServer:
    """moto's server (every AWS service it emulates) on host:port, in a daemon thread."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        install_light_transactions()  # see local/moto_transactions.py: no table copy per transaction
        # Each request's caller, IAM action and resource go to $LOCAL_AWS_CALLS_FILE when set (local/aws_calls.py).
        self._app = SerializedApp(recording(DomainDispatcherApplication(create_backend_app)))
        try:
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                self._app,
                threaded=True,
                request_handler=MotoRequestHandler,
            )
        except SystemExit:  # werkzeug prints the bind error and exits; say which port and option it was
            raise OSError(
                errno.EADDRINUSE,
                f"cannot listen on {host}:{port} for moto (--aws-port, $AWS_PORT): Address already in use",
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="moto", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()
        log.info("moto started", extra={"endpoint": self.url})

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, forever if it never ran
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        log.info("moto stopped")

    def stream_records(
        self, table_name: str, region: str, after: str | None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The stream records of `table_name` after sequence number `after` (None: from the start), at most
        `limit` (None: all), as GetRecords returns them (DynamoDB JSON images), read atomically with respect to
        every request."""
        from moto.dynamodb.models import dynamodb_backends

        with self._app.lock:
            shard = dynamodb_backends[MOTO_ACCOUNT_ID][region].get_table(table_name).stream_shard
            if shard is None:
                return []
            start = shard.starting_sequence_number if after is None else int(after) + 1
            return [copy.deepcopy(record) for record in shard.get(start, len(shard.items) if limit is None else limit)]
