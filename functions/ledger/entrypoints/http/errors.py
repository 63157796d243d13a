"""Every error a client can see: the request errors as types with their own status, the status of each category
of domain and kernel errors (so a new error type needs nothing here), and the body they all answer (error_handlers.py
maps each to its response, in one place).

Body of every error: {"error": {"code": "<snake_case>", "message": "<sentence>", "details"?: [...]}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from ledger.domain.errors import Category


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class HttpError(Exception):
    """A request refused before it reached the application (shape, size, headers)."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidJsonError(HttpError):
    status = HTTPStatus.BAD_REQUEST
    code = "invalid_json"


class PayloadTooLargeError(HttpError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


class RequestValidationError(HttpError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"

    def __init__(self, details: list[FieldError]) -> None:
        fields = ", ".join(dict.fromkeys(detail.field for detail in details))
        super().__init__(f"The request is invalid: check {fields}.", details)


class RouteNotFoundError(HttpError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class MethodNotAllowedError(HttpError):
    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "method_not_allowed"


STATUS_OF_CATEGORY: dict[Category, HTTPStatus] = {
    Category.INVALID: HTTPStatus.UNPROCESSABLE_ENTITY,
    Category.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Category.CONFLICT: HTTPStatus.CONFLICT,
    Category.PRECONDITION_FAILED: HTTPStatus.PRECONDITION_FAILED,
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [{"field": d.field, "message": d.message} for d in details]
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
