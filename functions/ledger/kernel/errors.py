"""Errors of the kernel: storage races, idempotency and HTTP-level preconditions, as types with a category (the same
categories as domain errors, so the HTTP layer maps both in one place)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.domain.errors import CategorizedError, Category

if TYPE_CHECKING:
    from ledger.kernel.records import EventRecord


class ApplicationError(CategorizedError):
    code = "application_error"
    category = Category.CONFLICT


class ConcurrencyConflictError(ApplicationError):
    """Another writer appended at the same version first (raised by a store; retried by the service). A store says,
    when it can, which event took the version (`taken`: it carries the state after it), so that the service can
    decide again on that state without a read."""

    code = "concurrency_conflict"
    category = Category.CONFLICT

    def __init__(self, message: str, *, taken: EventRecord | None = None) -> None:
        super().__init__(message)
        self.taken = taken


class IdempotencyKeyInUseError(ApplicationError):
    """The idempotency key of an append already has a live record (raised by a store; the service answers the
    record's outcome instead)."""

    code = "idempotency_key_in_use"
    category = Category.CONFLICT


class IdempotencyKeyReusedError(ApplicationError):
    code = "idempotency_key_reused"
    category = Category.INVALID


class PreconditionFailedError(ApplicationError):
    code = "precondition_failed"
    category = Category.PRECONDITION_FAILED


class VersionNotFoundError(ApplicationError):
    code = "version_not_found"
    category = Category.NOT_FOUND
