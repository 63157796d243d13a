"""Lambda event filtering (an event source mapping's FilterCriteria), as the local runtime applies it to stream records.

A record is delivered when it matches any of the mapping's patterns (or the mapping has none); the others are dropped
and checkpointed as if delivered. What a pattern is matched against:
- DynamoDB Streams: the Lambda record itself (`{"eventName": ..., "dynamodb": {"NewImage": {"kind": {"S": ...}}}}`);
- Kinesis: the record's `kinesis` metadata (`partitionKey`, `sequenceNumber`, ...) with `data` decoded as JSON. Data
  that is not JSON cannot match a pattern on `data` (Lambda drops such records too).

The pattern language (EventBridge's, as Lambda uses it), the parts implemented: nested objects; a list of allowed
values (strings, numbers, booleans, null); `{"prefix": ...}`, `{"suffix": ...}`, `{"equals-ignore-case": ...}`,
`{"exists": true|false}`, `{"anything-but": value | [values] | {"prefix": ...}}`, `{"numeric": [">", 0, "<=", 9]}`;
`{"$or": [pattern, ...]}`. A record field holding a list matches when any element does.
"""

from __future__ import annotations

import base64
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

Pattern = Mapping[str, Any]

_MISSING: Final = object()
_NUMERIC: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterPatternError(ValueError):
    """A pattern the local runtime cannot evaluate (Lambda would have refused to create the mapping)."""


def accepts(patterns: Sequence[Pattern], view: Mapping[str, Any]) -> bool:
    """Whether a record whose filter view is `view` is delivered under `patterns` (none: every record is)."""
    return not patterns or any(matches(pattern, view) for pattern in patterns)


def matches(pattern: Pattern, value: Any) -> bool:
    """Whether `value` (a JSON object) matches `pattern`: every key of the pattern must match."""
    for key, expected in pattern.items():
        if key == "$or":
            if not isinstance(expected, list) or not any(matches(p, value) for p in expected):
                return False
            continue
        actual = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if actual is _MISSING or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _matches_rules(expected, actual):
                return False
        else:
            raise FilterPatternError(f"the pattern for {key!r} must be an object or a list, not {expected!r}")
    return True


def kinesis_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a Kinesis record's patterns are matched against: its `kinesis` part, `data` as JSON (absent if not)."""
    metadata = dict(record["kinesis"])
    try:
        metadata["data"] = json.loads(base64.b64decode(metadata["data"]))
    except ValueError:
        del metadata["data"]
    return metadata


def _matches_rules(rules: list[Any], actual: Any) -> bool:
    """A list of allowed values and matchers: any one of them matching is enough."""
    for rule in rules:
        if isinstance(rule, Mapping) and "exists" in rule:
            if bool(rule["exists"]) == (actual is not _MISSING):
                return True
            continue
        if actual is _MISSING:
            continue
        candidates = actual if isinstance(actual, list) else [actual]
        if any(_matches_rule(rule, candidate) for candidate in candidates):
            return True
    return False


def _matches_rule(rule: Any, actual: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _same(rule, actual)
    if len(rule) != 1:
        raise FilterPatternError(f"a matcher has exactly one key: {dict(rule)!r}")
    ((kind, argument),) = rule.items()
    if kind == "prefix":
        return isinstance(actual, str) and _text_rule(argument, actual, str.startswith)
    if kind == "suffix":
        return isinstance(actual, str) and _text_rule(argument, actual, str.endswith)
    if kind == "equals-ignore-case":
        return isinstance(actual, str) and isinstance(argument, str) and actual.casefold() == argument.casefold()
    if kind == "anything-but":
        return not _anything_but_excludes(argument, actual)
    if kind == "numeric":
        return _numeric(argument, actual)
    raise FilterPatternError(f"unsupported matcher {kind!r}")


def _text_rule(argument: Any, actual: str, test: Callable[[str, str], bool]) -> bool:
    if isinstance(argument, Mapping) and "equals-ignore-case" in argument:
        return test(actual.casefold(), str(argument["equals-ignore-case"]).casefold())
    if not isinstance(argument, str):
        raise FilterPatternError(f"a prefix or suffix must be a string, not {argument!r}")
    return test(actual, argument)


def _anything_but_excludes(argument: Any, actual: Any) -> bool:
    if isinstance(argument, Mapping):
        return _matches_rule(argument, actual)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_same(value, actual) for value in excluded)


def _numeric(argument: Any, actual: Any) -> bool:
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    if not isinstance(argument, list) or len(argument) % 2:
        raise FilterPatternError(f"numeric takes operator/number pairs, not {argument!r}")
    for symbol, bound in zip(argument[::2], argument[1::2], strict=True):
        if symbol not in _NUMERIC:
            raise FilterPatternError(f"unknown numeric operator {symbol!r}")
        if not _NUMERIC[symbol](actual, bound):
            return False
    return True


def _same(expected: Any, actual: Any) -> bool:
    """Equality as event filtering has it: numbers by value, but never a boolean for a number or vice versa."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if expected is None or actual is None:
        return expected is actual
    return bool(expected == actual)
