"""Every error a client can see, as types, mapped to HTTP responses in one place: domain and kernel errors by their
category (so a new error type needs nothing here), request errors by their own status.

Body of every error: {"error": {"code": "<snake_case>", "message": "<sentence>", "details"?: [...]}}.
Unexpected exceptions become a 500 that names only the request id; the traceback goes to the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from ledger.domain.errors import CategorizedError, Category, InvalidCommandError


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


STATUS_OF_CATEGORY: dict[Category, HTTPStatus] = {
    Category.INVALID: HTTPStatus.UNPROCESSABLE_ENTITY,
    Category.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Category.CONFLICT: HTTPStatus.CONFLICT,
    Category.PRECONDITION_FAILED: HTTPStatus.PRECONDITION_FAILED,
}


def error_response(status: int, code: str, message: str, details: list[FieldError] | None = None) -> Response[str]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [{"field": d.field, "message": d.message} for d in details]
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers={"Cache-Control": "no-store"},
    )


def register_error_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """Map every error type to its response on `app` (the one place where that mapping lives)."""

    @app.exception_handler(HttpError)
    def _http_error(error: HttpError) -> Response[str]:
        logger.info("request refused", extra={"code": error.code, "reason": error.message})
        return error_response(error.status, error.code, error.message, error.details)

    @app.exception_handler(CategorizedError)
    def _refused(error: CategorizedError) -> Response[str]:
        status = STATUS_OF_CATEGORY[error.category]
        details = None
        if isinstance(error, InvalidCommandError):
            details = [FieldError(error.field, error.message)]
        logger.info("command refused", extra={"code": error.code, "reason": error.message})
        return error_response(status, error.code, error.message, details)

    @app.not_found
    def _route_not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(
            HTTPStatus.NOT_FOUND, "not_found", f"There is no route {event.http_method} {event.path}."[:300]
        )

    def _internal_error(error: Exception) -> Response[str]:
        logger.exception("unexpected error", exc_info=error)
        request_id = app.current_event.request_context.request_id
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            f"The request failed on our side; it was logged with request id {request_id}.",
        )

    app.exception_handler(Exception)(_internal_error)
