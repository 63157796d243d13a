"""The dashboard API: a second HTTP API beside the IAM-authorized service API (infra/api.py), serving exactly the
page's reads (DASHBOARD_ROUTES) to people signed in to the dashboard's user pool (infra/dashboard.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.api import logged_default_stage
from infra.topology import Route, Topology

# The reads the page makes, and the only routes the dashboard API serves (each must be a topology route: the
# function that serves it locally serves it deployed). Everything else stays on the IAM-authorized service API.
DASHBOARD_ROUTES: Final = (
    Route("GET", "/analytics/sales"),
    Route("GET", "/orders"),
    Route("GET", "/alerts"),
)
# People, not services: an open page refreshes every second with four reads (two sales reports, the newest orders,
# the newest alerts), so 100 requests/s serve about 25 people watching at once. The queries function's concurrency
# is what this competes for; raise both together.
RATE_LIMIT: Final = 100
BURST_LIMIT: Final = 200
# Like the service API's access log, with the signed-in person (the token's subject) instead of a SigV4 caller.
ACCESS_LOG_FORMAT: Final = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "sub": "$context.authorizer.claims.sub",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


class DashboardApi(Construct):
    """The HTTP API the page reads: DASHBOARD_ROUTES to their topology functions, a JWT authorizer on each, CORS
    for the page's origin only, the `$default` stage throttled and logged like the service API (no `$default`
    route: anything else is API Gateway's 404)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        functions: Mapping[str, lambda_.IFunction],
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        origin: str,
    ) -> None:
        super().__init__(scope, construct_id)
        unknown = [route.key for route in DASHBOARD_ROUTES if route.key not in topology.routes]
        if unknown:
            raise ValueError(f"dashboard routes no topology function serves: {unknown}")
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{Stack.of(self).stack_name}-dashboard-api",
            description="The sales dashboard's reads, for people signed in to the dashboard user pool",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[origin],
                allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.OPTIONS],
                allow_headers=["authorization"],
                max_age=Duration.hours(1),
            ),
        )
        # Issuer https://cognito-idp.<region>.amazonaws.com/<pool id>, audience the page's client: a token of
        # another pool, or of another client of this pool, is refused before any function runs.
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "UserPoolAuthorizer", user_pool, user_pool_clients=[client], authorizer_name="dashboard-user-pool"
        )
        targets: dict[str, integrations.HttpLambdaIntegration] = {}
        for route in DASHBOARD_ROUTES:
            function_id = topology.routes[route.key].id
            if function_id not in targets:
                targets[function_id] = integrations.HttpLambdaIntegration(
                    f"{function_id}-integration",
                    functions[function_id],
                    payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
                )
            self.http_api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=targets[function_id],
                authorizer=authorizer,
            )
        self.stage = logged_default_stage(
            self, self.http_api, rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT, log_format=ACCESS_LOG_FORMAT
        )
        self.url = self.http_api.api_endpoint  # https://<api id>.execute-api.<region>.amazonaws.com, no slash
