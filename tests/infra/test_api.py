"""The HTTP API: every topology route, IAM authorization everywhere, throttling and JSON access logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture

from infra.application import STACK_NAME
from infra.topology import TOPOLOGY, Function, Route
from tests.infra.template import Synthesized, arn_of

ROUTES = [(route, function) for function in TOPOLOGY.functions for route in function.routes]


def _api_id(synthesized: Synthesized) -> str:
    """The service API (the dashboard has its own, tests/infra/test_dashboard.py)."""
    (api_id,) = [
        name
        for name, api in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
        if api["Properties"]["Name"] == f"{STACK_NAME}-http-api"
    ]
    return api_id


def _routes(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    api = {"Ref": _api_id(synthesized)}
    routes = [r for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values() if r["Properties"]["ApiId"] == api]
    return {route["Properties"]["RouteKey"]: route["Properties"] for route in routes}


def _assert_signed_route_to(synthesized: Synthesized, route_key: str, function: Function) -> None:
    # GIVEN the route WHEN reading it THEN it needs IAM auth and its Lambda proxy integration (payload 2.0) invokes
    # the topology's function for it
    integration = Capture()
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Route",
        {
            "ApiId": {"Ref": _api_id(synthesized)},
            "RouteKey": route_key,
            "AuthorizationType": "AWS_IAM",
            "Target": {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]},
        },
    )
    proxies_to_function = synthesized.template.find_resources(
        "AWS::ApiGatewayV2::Integration",
        {
            "Properties": {
                "ApiId": {"Ref": _api_id(synthesized)},
                "IntegrationType": "AWS_PROXY",
                "PayloadFormatVersion": "2.0",
                "IntegrationUri": arn_of(synthesized.function_id(function)),
            }
        },
    )
    assert integration.as_string() in proxies_to_function


@pytest.mark.parametrize(("route", "function"), ROUTES, ids=[route.key for route, _ in ROUTES])
def test_every_topology_route_requires_sigv4_and_reaches_its_function(
    synthesized: Synthesized, route: Route, function: Function
) -> None:
    _assert_signed_route_to(synthesized, route.key, function)


def test_default_route_requires_sigv4_and_reaches_the_default_function(synthesized: Synthesized) -> None:
    _assert_signed_route_to(synthesized, "$default", TOPOLOGY.default_function)


def test_the_api_serves_exactly_the_topology_routes(synthesized: Synthesized) -> None:
    assert set(_routes(synthesized)) == {*TOPOLOGY.routes, "$default"}
    assert {route["AuthorizationType"] for route in _routes(synthesized).values()} == {"AWS_IAM"}


def test_stage_throttles_every_route(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "ApiId": {"Ref": _api_id(synthesized)},
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50},
        },
    )


def test_stage_writes_json_access_logs_to_a_log_group_with_retention(synthesized: Synthesized) -> None:
    log_group, log_format = Capture(), Capture()
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "ApiId": {"Ref": _api_id(synthesized)},
            "AccessLogSettings": {"DestinationArn": {"Fn::GetAtt": [log_group, "Arn"]}, "Format": log_format},
        },
    )
    assert log_group.as_string() in synthesized.template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 90}}
    )
    assert json.loads(log_format.as_string()) == {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "userArn": "$context.identity.userArn",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationErrorMessage": "$context.integrationErrorMessage",
    }


def test_outputs_name_the_api_url_and_every_table(synthesized: Synthesized) -> None:
    url = synthesized.outputs["ApiUrl"]["Value"]["Fn::Join"][1]
    assert url[:2] == ["https://", {"Ref": _api_id(synthesized)}]
    for table in TOPOLOGY.tables:
        output = "".join(part.capitalize() for part in table.id.split("_")) + "TableName"
        assert synthesized.outputs[output]["Value"] == {"Ref": synthesized.table_id(table)}


def test_outputs_name_the_streams_the_topic_the_failure_queues_and_the_dashboard(synthesized: Synthesized) -> None:
    outputs = synthesized.outputs
    assert outputs["TransactionsStreamName"]["Value"] == {"Ref": synthesized.stream_id(TOPOLOGY.stream("transactions"))}
    assert outputs["AlertsStreamName"]["Value"] == {"Ref": synthesized.stream_id(TOPOLOGY.stream("alerts"))}
    assert outputs["NotificationsTopicArn"]["Value"] == {"Ref": synthesized.topic_id(TOPOLOGY.topic("notifications"))}
    projector = TOPOLOGY.function("projector")
    (source,) = projector.event_sources
    assert outputs["ProjectorEventsFailuresQueueUrl"]["Value"] == {
        "Ref": synthesized.failure_queue_id(projector, source)
    }
    (dashboard_id,) = synthesized.of_type("AWS::CloudWatch::Dashboard")
    assert outputs["PipelineDashboardName"]["Value"] == {"Ref": dashboard_id}
