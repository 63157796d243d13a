"""The evaluator the least-privilege-by-use test relies on (tests/infra/policies.py), on IAM's rules and on the
functions' synthesized policies resolved to the local runtime's names."""

from __future__ import annotations

import pytest

from infra.topology import EVENTS, TOPOLOGY
from tests.infra.policies import ACCOUNT, REGION, Resolver, Statement, allows, local_names, role_statements
from tests.infra.template import Synthesized

TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
STREAM = f"{TABLE}/ledger-events/stream/2026-12-01T04:22:32.757167"


@pytest.mark.parametrize(
    ("granted_action", "granted_resource", "action", "resource", "allowed"),
    [
        ("dynamodb:Put*", f"{TABLE}/*", "dynamodb:PutItem", f"{TABLE}/t", True),
        ("DynamoDB:putitem", f"{TABLE}/t", "dynamodb:PutItem", f"{TABLE}/t", True),  # actions ignore case
        ("dynamodb:PutItem", f"{TABLE}/T", "dynamodb:PutItem", f"{TABLE}/t", False),  # ARNs do not
        ("dynamodb:Query", f"{TABLE}/t", "dynamodb:Query", f"{TABLE}/t/index/i", False),  # an index is not its table
        ("dynamodb:Quer?", f"{TABLE}/t/index/*", "dynamodb:Query", f"{TABLE}/t/index/i", True),
        ("dynamodb:GetItem", f"{TABLE}/t", "dynamodb:GetItems", f"{TABLE}/t", False),
    ],
)
def test_actions_and_resources_match_with_iams_wildcards(
    granted_action: str, granted_resource: str, action: str, resource: str, allowed: bool
) -> None:
    statement = {"Effect": "Allow", "Action": granted_action, "Resource": granted_resource}
    assert allows([statement], action, resource) is allowed


def test_not_action_not_resource_an_explicit_deny_and_the_implicit_deny() -> None:
    assert not allows(
        [{"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}], "dynamodb:DeleteItem", "x"
    )
    assert allows([{"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}], "dynamodb:PutItem", "x")
    assert not allows([{"Effect": "Allow", "Action": "*", "NotResource": "x"}], "dynamodb:PutItem", "x")
    everything: Statement = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
    deny: Statement = {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": f"{TABLE}/t"}
    assert not allows([everything, deny], "dynamodb:DeleteItem", f"{TABLE}/t")
    assert allows([everything, deny], "dynamodb:DeleteItem", f"{TABLE}/u")
    assert not allows([], "dynamodb:GetItem", f"{TABLE}/t")


@pytest.fixture(scope="module")
def policies(synthesized: Synthesized) -> dict[str, list[Statement]]:
    resolve = Resolver(
        synthesized.resources, names=local_names(synthesized), stream_arns={synthesized.table_id(EVENTS): STREAM}
    )
    return {f.id: role_statements(synthesized, synthesized.role_id(f), resolve) for f in TOPOLOGY.functions}


def test_resolved_to_the_local_names_the_commands_may_append_but_never_update_events(
    policies: dict[str, list[Statement]],
) -> None:
    commands = policies["commands"]
    assert allows(commands, "dynamodb:PutItem", f"{TABLE}/ledger-events")
    assert allows(commands, "dynamodb:GetItem", f"{TABLE}/ledger-idempotency")
    assert not allows(commands, "dynamodb:UpdateItem", f"{TABLE}/ledger-events")
    assert not allows(commands, "dynamodb:PutItem", f"{TABLE}/ledger-accounts")


def test_queries_list_alerts_and_orders_through_their_indexes_only(policies: dict[str, list[Statement]]) -> None:
    queries = policies["queries"]
    for table, index in (("ledger-alerts", "by_account"), ("ledger-alerts", "newest"), ("ledger-orders", "newest")):
        assert allows(queries, "dynamodb:Query", f"{TABLE}/{table}/index/{index}")
        assert not allows(queries, "dynamodb:Query", f"{TABLE}/{table}")
    assert allows(queries, "dynamodb:Query", f"{TABLE}/ledger-events")  # histories
    assert allows(queries, "dynamodb:Query", f"{TABLE}/ledger-events/index/by_time")  # as_of


def test_the_stream_readers_read_the_events_stream_by_its_arn_and_list_streams_anywhere(
    policies: dict[str, list[Statement]],
) -> None:
    for reader in ("projector", "publisher"):
        assert allows(policies[reader], "dynamodb:GetRecords", STREAM)
        assert not allows(policies[reader], "dynamodb:GetRecords", f"{TABLE}/ledger-orders/stream/2026-01-01T00:00:00")
        assert allows(policies[reader], "dynamodb:ListStreams", "*")
    assert not allows(policies["queries"], "dynamodb:ListStreams", "*")
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ledger-projector-events-dlq"
    assert allows(policies["projector"], "sqs:SendMessage", queue)
    assert not allows(policies["publisher"], "sqs:SendMessage", queue)
