"""Least privilege: each function's role holds exactly its topology access, and events can never be rewritten."""

from __future__ import annotations

from typing import Any

import pytest

from infra.topology import EVENTS, IDEMPOTENCY, TOPOLOGY, Function
from tests.infra.template import Synthesized, arn_of, as_list, grants, refers_to

COMMANDS = TOPOLOGY.function("commands")
QUERIES = TOPOLOGY.function("queries")
DYNAMODB_WRITES = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
)


def _dynamodb_actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow" and resource in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }


def _statements(synthesized: Synthesized, function: Function) -> list[dict[str, Any]]:
    return synthesized.statements(synthesized.role_id(function))


def test_commands_may_append_and_read_events_and_nothing_more(synthesized: Synthesized) -> None:
    # GIVEN the command function's role WHEN listing its DynamoDB actions on the events table THEN PutItem and Query
    events = arn_of(synthesized.table_id(EVENTS))
    assert _dynamodb_actions_on(_statements(synthesized, COMMANDS), events) == {"dynamodb:PutItem", "dynamodb:Query"}


def test_commands_may_read_and_record_idempotency_outcomes(synthesized: Synthesized) -> None:
    idempotency = arn_of(synthesized.table_id(IDEMPOTENCY))
    assert _dynamodb_actions_on(_statements(synthesized, COMMANDS), idempotency) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }


def test_no_policy_anywhere_can_update_or_delete_events(synthesized: Synthesized) -> None:
    # GIVEN every IAM statement in the stack WHEN it names the events table (or any resource, '*')
    # THEN it grants neither UpdateItem nor DeleteItem, not even through a wildcard like dynamodb:* or *
    events_id = synthesized.table_id(EVENTS)
    offending = [
        statement
        for statement in synthesized.all_statements()
        if any(resource == "*" or refers_to(resource, events_id) for resource in as_list(statement.get("Resource")))
        and any(grants(statement, action) for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem"))
    ]
    assert offending == []


def test_no_policy_uses_a_dynamodb_wildcard_action(synthesized: Synthesized) -> None:
    wildcards = [
        action
        for statement in synthesized.all_statements()
        for action in as_list(statement.get("Action", []))
        if "*" in action and (action == "*" or action.startswith("dynamodb:"))
    ]
    assert wildcards == []


def test_queries_are_read_only(synthesized: Synthesized) -> None:
    # GIVEN the query function's role THEN it can Query the events table and its by_time index, and write nothing
    statements = _statements(synthesized, QUERIES)
    events_id = synthesized.table_id(EVENTS)
    by_time = {"Fn::Join": ["", [arn_of(events_id), "/index/by_time"]]}
    assert _dynamodb_actions_on(statements, arn_of(events_id)) == {"dynamodb:Query"}
    assert _dynamodb_actions_on(statements, by_time) == {"dynamodb:Query"}
    assert [a for a in DYNAMODB_WRITES if any(grants(s, a) for s in statements)] == []
    assert not any(grants(s, "kms:Encrypt") or grants(s, "kms:GenerateDataKey") for s in statements)
    assert not any(refers_to(s.get("Resource"), synthesized.table_id(IDEMPOTENCY)) for s in statements)


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)
def test_every_key_is_usable_only_through_the_service_it_encrypts_for(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN the function's KMS statements THEN each names one key, with no wildcard action, and holds only when the
    # request comes through the service whose data that key encrypts (a table key via DynamoDB, and so on)
    kms = [s for s in _statements(synthesized, spec) if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert kms, "every function reads an encrypted table or stream, so it needs kms:Decrypt on a key"
    for statement in kms:
        assert all("*" not in action for action in as_list(statement["Action"]))
        (key,) = as_list(statement["Resource"])
        assert synthesized.resources[key["Fn::GetAtt"][0]]["Type"] == "AWS::KMS::Key"
        service = _service_of_key(synthesized, key["Fn::GetAtt"][0])
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Join": ["", [f"{service}.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
        }


def _service_of_key(synthesized: Synthesized, key_id: str) -> str:
    """The service whose resources the key encrypts (tables, streams or topics: one kind per key)."""
    users = {
        {"AWS::DynamoDB::Table": "dynamodb", "AWS::Kinesis::Stream": "kinesis", "AWS::SNS::Topic": "sns"}[
            resource["Type"]
        ]
        for resource in synthesized.resources.values()
        if resource["Type"] in ("AWS::DynamoDB::Table", "AWS::Kinesis::Stream", "AWS::SNS::Topic")
        and refers_to(resource["Properties"], key_id)
    }
    assert len(users) == 1, f"key {key_id} encrypts {users}"
    return users.pop()


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)
def test_only_xray_and_listing_a_tables_streams_need_a_wildcard_resource(
    synthesized: Synthesized, spec: Function
) -> None:
    # The one acknowledged AwsSolutions-IAM5 finding: X-Ray's write actions, and dynamodb:ListStreams for the readers
    # of a table's stream, support no resource-level permissions.
    wildcard = [s for s in _statements(synthesized, spec) if "*" in as_list(s["Resource"])]
    expected = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    if any(source.kind == "dynamodb" for source in spec.event_sources):
        expected.add("dynamodb:ListStreams")
        # in a statement of its own: nothing else rides on the wildcard with it
        (list_streams,) = [s for s in wildcard if "dynamodb:ListStreams" in as_list(s["Action"])]
        assert (as_list(list_streams["Action"]), as_list(list_streams["Resource"])) == (["dynamodb:ListStreams"], ["*"])
    assert {a for s in wildcard for a in as_list(s["Action"])} == expected


@pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)
def test_function_role_has_no_managed_policies_and_writes_only_its_log_group(
    synthesized: Synthesized, spec: Function
) -> None:
    role_id = synthesized.role_id(spec)
    assert "ManagedPolicyArns" not in synthesized.resources[role_id]["Properties"]
    log_group_id = synthesized.function(spec)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    logs = [s for s in _statements(synthesized, spec) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
    assert [as_list(s["Resource"]) for s in logs] == [[arn_of(log_group_id)]]
