"""The heartbeat's schedule: an EventBridge rule invoking the heartbeat function at the topology's rate, through a
Lambda permission scoped to that rule, and nothing else that could invoke it."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra.topology import TOPOLOGY
from tests.infra.template import Synthesized, arn_of


def test_a_rule_invokes_the_heartbeat_function_at_the_topologys_rate(synthesized: Synthesized) -> None:
    heartbeat = TOPOLOGY.heartbeat
    assert heartbeat is not None
    function_id = synthesized.function_id(TOPOLOGY.function(heartbeat.function))
    (rule,) = synthesized.of_type("AWS::Events::Rule").values()
    properties = rule["Properties"]
    assert properties["ScheduleExpression"] == f"rate({heartbeat.rate_minutes} minutes)"
    assert properties["State"] == "ENABLED"
    (target,) = properties["Targets"]
    assert target["Arn"] == arn_of(function_id)
    # a firing EventBridge could not deliver is retried within its period only: the next one is due then
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": heartbeat.rate_minutes * 60, "MaximumRetryAttempts": 2}


def test_only_that_rule_may_invoke_the_heartbeat_function(synthesized: Synthesized) -> None:
    heartbeat = TOPOLOGY.heartbeat
    assert heartbeat is not None
    function_id = synthesized.function_id(TOPOLOGY.function(heartbeat.function))
    (rule_id,) = synthesized.of_type("AWS::Events::Rule")
    permissions = [
        p["Properties"]
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == arn_of(function_id)
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": arn_of(function_id),
            "Principal": "events.amazonaws.com",
            "SourceArn": arn_of(rule_id),
        }
    ]


def test_the_heartbeat_function_has_no_route_and_no_event_source(synthesized: Synthesized) -> None:
    heartbeat = TOPOLOGY.heartbeat
    assert heartbeat is not None
    spec = TOPOLOGY.function(heartbeat.function)
    assert (spec.routes, spec.event_sources) == ((), ())
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": spec.handler, "Environment": Match.any_value()}
    )
