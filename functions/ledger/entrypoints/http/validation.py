"""Request parsing: JSON bodies and query strings checked against the JSON Schemas in `schemas.py`.

A small, strict subset of JSON Schema (type, required, additionalProperties: false, properties, items, maxItems,
enum, minLength, maxLength, pattern, minimum, maximum), so the same dictionaries validate requests and document them in
OpenAPI, with JSON Schema's meaning: an integer is a number without a fractional part, so 5, 5.0 and 5e0 are the
integer 5 (read exactly, never through a float), while 5.5, "5" and true are not integers. A field inside an array is
named by its position, e.g. items[0].quantity. `x-pattern-message` and `x-enum-message` word a refusal.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from ledger.entrypoints.http.errors import FieldError, InvalidJsonError, PayloadTooLargeError, RequestValidationError
from ledger.entrypoints.http.formats import MAX_QUERY_DIGITS

MAX_BODY_BYTES = 64 * 1024
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_INTEGER_DIGITS = 30
_DIGITS = re.compile("[0-9]+")


class _HugeInteger:
    """An integer literal too long to be any valid value (kept apart so the error names the field)."""


def read_json_body(event: Mapping[str, Any], schema: Mapping[str, Any], *, optional: bool = False) -> dict[str, Any]:
    """The request body as a validated JSON object (an empty body is {} when `optional`)."""
    raw = event.get("body") or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except (binascii.Error, ValueError) as error:
        raise InvalidJsonError("The body is not valid base64.") from error
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"The body is {len(data)} bytes; the limit is {MAX_BODY_BYTES}.")
    if not data.strip():
        if not optional:
            raise InvalidJsonError("The body is empty; send a JSON object.")
        body: Any = {}
    else:
        body = parse_json(data)
    errors = validate(body, schema)
    if errors:
        raise RequestValidationError(errors)
    return dict(body)


def parse_json(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_reject_duplicate_keys,
        )
    except UnicodeDecodeError as error:
        raise InvalidJsonError("The body is not UTF-8 text.") from error
    except RecursionError as error:
        raise InvalidJsonError("The body is nested too deeply.") from error
    except ValueError as error:  # json.JSONDecodeError and the hooks' refusals
        raise InvalidJsonError(f"The body is not valid JSON: {_first_line(error)}") from error


def _parse_int(literal: str) -> int | _HugeInteger:
    return int(literal) if len(literal) <= _MAX_INTEGER_DIGITS else _HugeInteger()


def _parse_number(literal: str) -> int | _HugeInteger | float:
    """A number with a fraction or an exponent: the integer it is when it has no fractional part (5.0, 5e0; read as
    a decimal, so exactly), else a float (which no integer field accepts)."""
    number = Decimal(literal)
    if number != number.to_integral_value():
        return float(number)
    if number and number.adjusted() >= _MAX_INTEGER_DIGITS:  # 1e999999999: refused without writing out its digits
        return _HugeInteger()
    return int(number)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _first_line(error: ValueError) -> str:
    return str(error).splitlines()[0][:200]


def read_query(event: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The query string as a validated object (`query_parameters`); a validation error naming each bad one."""
    params, errors = query_parameters(event, schema)
    if errors:
        raise RequestValidationError(errors)
    return params


def query_parameters(event: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The query string as an object and what `schema` finds wrong in it; integer parameters are converted (digits
    only, no sign, at most MAX_QUERY_DIGITS of them: more is a value over any maximum)."""
    params: dict[str, Any] = dict(event.get("queryStringParameters") or {})
    properties = schema.get("properties", {})
    for name, value in params.items():
        if properties.get(name, {}).get("type") == "integer" and _DIGITS.fullmatch(value):
            params[name] = int(value) if len(value) <= MAX_QUERY_DIGITS else _HugeInteger()
    return params, validate(params, schema, where="query")


def validate(value: Any, schema: Mapping[str, Any], where: str = "body") -> list[FieldError]:
    """Every violation of `schema` by `value`, each naming its field (e.g. 'amount' or 'body')."""
    errors: list[FieldError] = []
    _check(value, schema, where, errors, top=True)
    return errors


_TYPES: dict[str, tuple[str, Any]] = {
    "object": ("an object", lambda v: isinstance(v, dict)),
    "string": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", lambda v: isinstance(v, int | _HugeInteger) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "array": ("an array", lambda v: isinstance(v, list)),
}


def _check(value: Any, schema: Mapping[str, Any], field: str, errors: list[FieldError], *, top: bool = False) -> None:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if value is None and "null" in kinds:
        return
    label, accepts = _TYPES[next(kind for kind in kinds if kind != "null")]
    if not accepts(value):
        errors.append(FieldError(field, f"must be {label}" + (" or null" if "null" in kinds else "")))
        return
    if isinstance(value, _HugeInteger):
        errors.append(FieldError(field, f"must be at most {schema.get('maximum', 'the limit')}"))
    elif isinstance(value, dict):
        _check_object(value, schema, "" if top else f"{field}.", errors)
    elif isinstance(value, list):
        _check_array(value, schema, field, errors)
    elif isinstance(value, str):
        _check_string(value, schema, field, errors)
    elif isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(FieldError(field, f"must be at least {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(FieldError(field, f"must be at most {schema['maximum']}"))


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], prefix: str, errors: list[FieldError]) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(FieldError(prefix + name, "is required"))
    for name, item in value.items():
        if name in properties:
            _check(item, properties[name], prefix + name, errors)
        elif schema.get("additionalProperties", True) is False:
            errors.append(FieldError(prefix + name[:100], "is not a known field"))


def _check_array(value: list[Any], schema: Mapping[str, Any], field: str, errors: list[FieldError]) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(FieldError(field, f"must hold at most {schema['maxItems']} items"))
        return  # its items are not looked at: one error, however long the array
    for index, item in enumerate(value):
        _check(item, schema["items"], f"{field}[{index}]", errors)


def _check_string(value: str, schema: Mapping[str, Any], field: str, errors: list[FieldError]) -> None:
    if _LONE_SURROGATE.search(value):  # JSON's "\ud800" parses, but cannot be stored (UTF-8): a 500 otherwise
        errors.append(FieldError(field, "must be valid Unicode text (no unpaired surrogate escapes)"))
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(FieldError(field, schema.get("x-enum-message", f"must be one of {', '.join(schema['enum'])}")))
    if len(value) < schema.get("minLength", 0):
        errors.append(FieldError(field, f"must be at least {schema['minLength']} character(s) long"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(FieldError(field, f"must be at most {schema['maxLength']} characters long"))
    elif "pattern" in schema and not _compiled(schema["pattern"]).search(value):
        errors.append(FieldError(field, schema.get("x-pattern-message", f"must match {schema['pattern']}")))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
