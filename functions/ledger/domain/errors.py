"""Typed refusals. Each error type states its category, and the entry points map a category (never a type) to a
response, so a new error answers correctly without anyone touching the HTTP layer."""

from __future__ import annotations

from enum import Enum
from typing import ClassVar


class Category(Enum):
    """What kind of refusal an error is; the HTTP layer turns each into one status."""

    INVALID = "invalid"  # the request's values break a rule no state can satisfy (422)
    NOT_FOUND = "not_found"  # what the request names does not exist (404)
    CONFLICT = "conflict"  # the request cannot apply to the current state (409)
    PRECONDITION_FAILED = "precondition_failed"  # the state is not the one the client said it expects (412)


class CategorizedError(Exception):
    """An error a client may see: a snake_case `code` and a `category`, which every subclass must state itself (a
    subclass without its own is refused when it is defined, not when it is first raised)."""

    code: ClassVar[str]
    category: ClassVar[Category]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("code", "category") if name not in vars(cls)]
        if missing:
            raise TypeError(f"{cls.__name__} must state its own {' and '.join(missing)}")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DomainError(CategorizedError):
    """A command was refused by a business rule. Nothing was recorded."""

    code = "domain_error"
    category = Category.CONFLICT


class InvalidCommandError(DomainError):
    """A command's values break an invariant the type system cannot express (e.g. an unknown currency)."""

    code = "validation_error"
    category = Category.INVALID

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
