"""Errors of the application layer: storage races and HTTP-level preconditions, as types."""

from __future__ import annotations


class ApplicationError(Exception):
    code = "application_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConcurrencyConflictError(ApplicationError):
    """Another writer appended at the same version first (raised by a store; retried by the service)."""

    code = "concurrency_conflict"


class IdempotencyKeyInUseError(ApplicationError):
    """The idempotency key of an append already has a live record (raised by a store)."""

    code = "idempotency_key_in_use"


class IdempotencyKeyReusedError(ApplicationError):
    code = "idempotency_key_reused"


class PreconditionFailedError(ApplicationError):
    code = "precondition_failed"


class VersionNotFoundError(ApplicationError):
    code = "version_not_found"


class ForeignStreamError(ApplicationError):
    """The id names a stream of another aggregate type."""

    code = "foreign_stream"
