"""The HTTP API: every topology route (and $default) to its function, IAM (SigV4) authorization on all of them,
stage throttling and JSON access logs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import jsii
from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.topology import Topology

RATE_LIMIT: Final = 50  # steady-state requests per second across the stage
BURST_LIMIT: Final = 100
ACCESS_LOG_RETENTION: Final = logs.RetentionDays.THREE_MONTHS
# One JSON object per request (HTTP API $context variables); userArn is the SigV4 caller.
ACCESS_LOG_FORMAT: Final = {
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


class LedgerApi(Construct):
    """API Gateway HTTP API with Lambda proxy integrations (payload format 2.0). Requests without a valid SigV4
    signature are rejected by API Gateway itself (403, its own body), before any function runs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        targets = {
            function.id: integrations.HttpLambdaIntegration(
                f"{function.id}-integration",
                functions[function.id],
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
            for function in topology.functions
        }
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{Stack.of(self).stack_name}-http-api",
            description="Event-sourced account ledger",
            create_default_stage=False,
            default_authorizer=authorizers.HttpIamAuthorizer(),
            default_integration=targets[topology.default_function.id],
        )
        for function in topology.functions:
            for route in function.routes:
                self.http_api.add_routes(
                    path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=targets[function.id]
                )
        self.stage = logged_default_stage(
            self, self.http_api, rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT, log_format=ACCESS_LOG_FORMAT
        )
        self.url = self.stage.url


def logged_default_stage(
    scope: Construct, http_api: apigwv2.IHttpApi, *, rate_limit: int, burst_limit: int, log_format: Mapping[str, str]
) -> apigwv2.HttpStage:
    """The `$default` stage (auto-deployed) of an HTTP API, throttled, writing one JSON access-log line per request
    (`log_format`: field -> $context variable) to its own log group (`AccessLogs`, kept ACCESS_LOG_RETENTION)."""
    access_logs = logs.LogGroup(scope, "AccessLogs", retention=ACCESS_LOG_RETENTION)
    return apigwv2.HttpStage(
        scope,
        "DefaultStage",
        http_api=http_api,
        stage_name="$default",
        auto_deploy=True,
        throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
        access_log_settings=_AccessLogSettings(
            apigwv2.LogGroupLogDestination(access_logs),
            apigw.AccessLogFormat.custom(json.dumps(log_format, separators=(",", ":"))),
        ),
    )


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat | None:
        return self._format
