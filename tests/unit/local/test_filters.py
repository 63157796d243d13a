"""Lambda event filtering as the local runtime applies it (local/filters.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infra.topology import ONLY_EVENTS
from local.filters import FilterPatternError, accepts, kinesis_view, matches


def stream_record(kind: str, event_name: str = "INSERT") -> dict[str, Any]:
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"aggregate_id": {"S": "a"}, "seq": {"N": "1"}},
            "NewImage": {"aggregate_id": {"S": "a"}, "seq": {"N": "1"}, "kind": {"S": kind}},
        },
    }


def test_the_topologys_only_events_pattern_keeps_events_and_drops_snapshots() -> None:
    assert accepts([ONLY_EVENTS], stream_record("event"))
    assert not accepts([ONLY_EVENTS], stream_record("snapshot"))
    assert not accepts([ONLY_EVENTS], {"eventName": "REMOVE", "dynamodb": {"Keys": {}}})  # no NewImage


def test_no_patterns_accept_everything_and_any_one_pattern_is_enough() -> None:
    assert accepts([], {"anything": 1})
    assert accepts([{"eventName": ["MODIFY"]}, ONLY_EVENTS], stream_record("event"))
    assert not accepts([{"eventName": ["MODIFY"]}], stream_record("event"))


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["x"]}, {"a": "z"}, False),
        ({"a": [5]}, {"a": 5.0}, True),
        ({"a": [5]}, {"a": "5"}, False),
        ({"a": [True]}, {"a": 1}, False),
        ({"a": [None]}, {"a": None}, True),
        ({"a": ["x"]}, {"a": ["w", "x"]}, True),  # a list field matches when any element does
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
        ({"a": [{"prefix": "acc-"}]}, {"a": "acc-1"}, True),
        ({"a": [{"prefix": "acc-"}]}, {"a": "xacc-1"}, False),
        ({"a": [{"suffix": ".json"}]}, {"a": "f.json"}, True),
        ({"a": [{"equals-ignore-case": "DeP"}]}, {"a": "dep"}, True),
        ({"a": [{"exists": True}]}, {"a": 0}, True),
        ({"a": [{"exists": True}]}, {}, False),
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": [{"exists": False}]}, {"a": 1}, False),
        ({"a": [{"anything-but": "x"}]}, {"a": "y"}, True),
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "y"}, False),
        ({"a": [{"anything-but": {"prefix": "tmp"}}]}, {"a": "tmp1"}, False),
        ({"a": [{"anything-but": "x"}]}, {}, False),
        ({"a": [{"numeric": [">", 0, "<=", 10]}]}, {"a": 10}, True),
        ({"a": [{"numeric": [">", 0, "<=", 10]}]}, {"a": 11}, False),
        ({"a": [{"numeric": ["=", 3]}]}, {"a": "3"}, False),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "y"}, True),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "z"}, False),
    ],
)
def test_pattern_language(pattern: dict[str, Any], value: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, value) is expected


@pytest.mark.parametrize("pattern", [{"a": "x"}, {"a": [{"wildcard": "*"}]}, {"a": [{"numeric": [">"]}]}])
def test_a_pattern_lambda_would_refuse_is_an_error_not_a_silent_miss(pattern: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError):
        matches(pattern, {"a": 1})


def kinesis(data: bytes) -> dict[str, Any]:
    return {"kinesis": {"partitionKey": "acc-1", "data": base64.b64encode(data).decode()}}


def test_kinesis_patterns_see_the_data_as_json_and_the_metadata() -> None:
    view = kinesis_view(kinesis(json.dumps({"type": "deposit"}).encode()))
    assert matches({"data": {"type": ["deposit"]}, "partitionKey": [{"prefix": "acc-"}]}, view)


def test_kinesis_data_that_is_not_json_matches_no_data_pattern() -> None:
    view = kinesis_view(kinesis(b"\xff garbage"))
    assert not matches({"data": {"type": ["deposit"]}}, view)
    assert matches({"partitionKey": ["acc-1"]}, view)
