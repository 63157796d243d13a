"""DynamoDB attribute values <-> plain JSON values, without Decimal (stored numbers are integers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AttributeValue = dict[str, Any]


def to_attribute(value: Any) -> AttributeValue:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": to_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(element) for element in value]}
    raise TypeError(f"cannot store a {type(value).__name__} (money and counts are integers)")


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValue]:
    return {key: to_attribute(value) for key, value in values.items()}


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value) if _is_integer(value) else value
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return from_item(value)
    if kind == "L":
        return [from_attribute(element) for element in value]
    raise ValueError(f"unsupported attribute type {kind}")


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {key: from_attribute(attribute) for key, attribute in item.items()}


def _is_integer(number: str) -> bool:
    return number.lstrip("-").isdigit()
