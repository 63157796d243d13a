"""Every error type mapped to its response, in one place: domain and kernel errors by their category, request errors
by their own status, a request no route matches by what the route table says of its path (405 with Allow, 422 for a
parameter no route can read, or 404). Unexpected exceptions become a 500 that names only the request id; the
traceback goes to the log."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from ledger.domain.errors import CategorizedError, InvalidCommandError
from ledger.entrypoints.http.errors import (
    STATUS_OF_CATEGORY,
    FieldError,
    HttpError,
    MethodNotAllowedError,
    RequestValidationError,
    RouteNotFoundError,
    error_response,
)
from ledger.entrypoints.http.route_table import allowed_methods, parameter_errors


def register_error_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """Map every error type to its response on `app`."""

    def _http_error(error: HttpError, headers: dict[str, str] | None = None) -> Response[str]:
        logger.info("request refused", extra={"code": error.code, "reason": error.message})
        return error_response(error.status, error.code, error.message, error.details, headers)

    app.exception_handler(HttpError)(_http_error)

    @app.exception_handler(CategorizedError)
    def _refused(error: CategorizedError) -> Response[str]:
        status = STATUS_OF_CATEGORY[error.category]
        details = None
        if isinstance(error, InvalidCommandError):
            details = [FieldError(error.field, error.message)]
        logger.info("command refused", extra={"code": error.code, "reason": error.message})
        return error_response(status, error.code, error.message, details)

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        """API Gateway's $default route (and any request a function's routes do not match)."""
        event = app.current_event
        method, path = event.http_method.upper(), event.path
        allowed = allowed_methods(path)
        if method in allowed:  # a route's path and method, with a parameter no route can read
            errors = parameter_errors(method, path)
            if errors:
                return _http_error(RequestValidationError(errors))
        elif allowed:
            refusal = MethodNotAllowedError(f"{path[:200]} takes {', '.join(allowed)}, not {method[:20]}.")
            return _http_error(refusal, {"Allow": ", ".join(allowed)})
        return _http_error(RouteNotFoundError(f"There is no route {method[:20]} {path[:200]}."))

    def _internal_error(error: Exception) -> Response[str]:
        logger.exception("unexpected error", exc_info=error)
        request_id = app.current_event.request_context.request_id
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            f"The request failed on our side; it was logged with request id {request_id}.",
        )

    app.exception_handler(Exception)(_internal_error)
