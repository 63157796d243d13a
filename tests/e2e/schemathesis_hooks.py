"""Schemathesis hooks of the e2e run (tests/e2e/schemathesis.toml): the rules the OpenAPI document states in words
because a JSON Schema cannot state them.

A schema describes each value alone, so a request can satisfy every schema and still break a rule that ties values
together or to the API's state: version and as_of together, account_id and order_id together, a cursor the API did
not give out, a sales range that ends before it starts or spans too many buckets, an order whose lines together
exceed the largest amount, a payment in another currency than its order's, an If-Match naming another version, an
Idempotency-Key sent before with another body. The document says each of these is refused, and how (422 or 412 with
the code and, for validation_error, the field and message below). Schemathesis's positive_data_acceptance check
counts such a refusal of schema-valid data as a failure; `filter_failure` drops exactly those refusals and nothing
else (the run's summary counts how many it dropped). Any other refusal of schema-valid data still fails the run.
"""

from __future__ import annotations

import ast
import json
import re
import threading
import uuid
from typing import Any, Final

import schemathesis

from ledger.entrypoints.http.formats import IDEMPOTENCY_KEY_PATTERN

# (field, the start of its message): the validation_error details the document describes in words.
DOCUMENTED_RULES: Final = (
    ("as_of", "give either version or as_of, not both"),
    ("order_id", "give either account_id or order_id, not both"),
    ("cursor", "not a cursor this API gave out"),
    ("as_of", "must fall within 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z once in UTC"),
    ("from", "must fall within 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z once in UTC"),
    ("to", "must fall within 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z once in UTC"),
    ("from", "must be between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z"),
    ("to", "must be between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z"),
    ("from", "must be before to"),
    ("from", "is too long before to"),
    ("items", "An order's total must be at most"),
    ("currency", "Order "),  # "Order 'o-1' is in USD, not EUR.": a line or payment in another currency
)
# Codes whose refusal depends on what was sent before, never on the request alone.
STATEFUL_CODES: Final = frozenset({"precondition_failed", "idempotency_key_reused"})


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure, except a schema-valid request refused by a rule the document states in words."""
    return not (failure.code == "ST202" and documented_refusal(response.status_code, response.content))


def documented_refusal(status: int, body: bytes) -> bool:
    """Whether a 412 or 422 `body` is a refusal the document describes in words (DOCUMENTED_RULES, STATEFUL_CODES)."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    if status in (412, 422) and error.get("code") in STATEFUL_CODES:
        return True
    if status != 422 or error.get("code") != "validation_error":
        return False
    details = error.get("details") or []
    return bool(details) and all(
        any(detail["field"] == field and detail["message"].startswith(start) for field, start in DOCUMENTED_RULES)
        for detail in details
    )


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """A valid Idempotency-Key made unique to its request, so that generated requests are not all refused as a
    reuse of the few shortest keys with another body (an invalid key is left as it is: it must be refused)."""
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _IDEMPOTENCY_KEY.fullmatch(key):
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4()}"


_IDEMPOTENCY_KEY: Final = re.compile(IDEMPOTENCY_KEY_PATTERN)


# Workers are threads, and hypothesis describes strategies with ast.parse, which CPython 3.11 cannot run in two
# threads at once ("SystemError: AST constructor recursion depth mismatch"): one parse at a time.
_PARSE_LOCK: Final = threading.Lock()
_parse: Final = ast.parse


def _one_parse_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _PARSE_LOCK:
        return _parse(*args, **kwargs)


ast.parse = _one_parse_at_a_time
