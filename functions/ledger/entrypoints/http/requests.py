"""Reading what a request says beyond its body: path ids, headers, caller, and the command context."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger

from ledger.entrypoints.http.errors import FieldError, RequestValidationError
from ledger.entrypoints.http.formats import CORRELATION_ID_PATTERN, IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN
from ledger.entrypoints.http.schemas import ID
from ledger.entrypoints.http.validation import validate
from ledger.kernel.service import CommandContext, IdempotencyRequest

_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_CORRELATION_ID = re.compile(CORRELATION_ID_PATTERN)
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def path_parameter(event: Mapping[str, Any], raw: str, name: str) -> str:
    """The path parameter `name`, percent-decoded once (%2D is '-'): API Gateway's value (pathParameters, which it
    decodes, as the local runtime does), or, in an event that has none, `raw` (the route's segment) decoded here."""
    decoded = (event.get("pathParameters") or {}).get(name)
    return decoded if isinstance(decoded, str) else unquote(raw)


def valid_id(raw: str, name: str, schema: Mapping[str, Any] = ID) -> str:
    """A path or query id (`name`: e.g. account_id), checked against `schema` (an ID, or e.g. a SKU)."""
    errors = validate(raw, schema, where=name)
    if errors:
        raise RequestValidationError(errors)
    return raw


def path_id(event: Mapping[str, Any], raw: str, name: str, logger: Logger, *, schema: Mapping[str, Any] = ID) -> str:
    """A path id (`raw`: the route's segment), percent-decoded (`path_parameter`), checked, and added to the
    request's log keys under `name`."""
    checked = valid_id(path_parameter(event, raw, name), name, schema)
    logger.append_keys(**{name: checked})
    return checked


def correlation_id(event: Mapping[str, Any]) -> str:
    """The caller's X-Correlation-Id when it is a sane token, else this request's id."""
    supplied = _headers(event).get("x-correlation-id", "")
    if _CORRELATION_ID.fullmatch(supplied):
        return supplied
    return str(event.get("requestContext", {}).get("requestId", ""))


def command_context(event: Mapping[str, Any], body: Mapping[str, Any], correlation: str) -> CommandContext:
    """The context of a command: `correlation` is the request's correlation id (`correlation_id`, found once per
    request by `resolve`)."""
    return CommandContext(
        correlation_id=correlation,
        causation_id=str(event.get("requestContext", {}).get("requestId", "")),
        idempotency=_idempotency(event, body),
        expected_version=_if_match(event),
    )


def _idempotency(event: Mapping[str, Any], body: Mapping[str, Any]) -> IdempotencyRequest | None:
    key = _headers(event).get("idempotency-key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise RequestValidationError(
            [FieldError("Idempotency-Key", "must be 1 to 255 visible ASCII characters (a UUID is a good choice)")]
        )
    request = json.dumps(
        [event.get("requestContext", {}).get("http", {}).get("method"), event.get("rawPath"), body],
        sort_keys=True,
        separators=(",", ":"),
    )
    return IdempotencyRequest(key=key, caller=caller(event), fingerprint=hashlib.sha256(request.encode()).hexdigest())


def _if_match(event: Mapping[str, Any]) -> int | None:
    value = _headers(event).get("if-match")
    if value is None:
        return None
    match = _IF_MATCH.fullmatch(value.strip())
    if match is None:
        raise RequestValidationError([FieldError("If-Match", 'must be an ETag of this API, such as "3", or *')])
    return int(match.group(1)) if match.group(1) is not None else None  # *: any version


def caller(event: Mapping[str, Any]) -> str:
    """Who signed the request (IAM auth in the deployed API); 'anonymous' where nothing authenticates it."""
    iam = event.get("requestContext", {}).get("authorizer", {}).get("iam", {})
    return str(iam.get("userArn") or iam.get("userId") or "anonymous")


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}
