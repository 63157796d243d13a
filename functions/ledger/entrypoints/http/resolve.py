"""What every HTTP function does around routing: correlation id in logs and on the response."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger.entrypoints.http.requests import correlation_id


def resolve(
    app: APIGatewayHttpResolver, logger: Logger, event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    cid = correlation_id(event)
    logger.set_correlation_id(cid)
    # For the routes (a command's metadata); Powertools clears the context after the request.
    app.append_context(correlation_id=cid)  # type: ignore[no-untyped-call]
    logger.append_keys(route=event.get("routeKey"))
    response = app.resolve(event, context)
    response.setdefault("headers", {})["X-Correlation-Id"] = cid
    logger.info("request handled", extra={"status": response.get("statusCode")})
    return response
