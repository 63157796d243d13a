"""The deployed dashboard: a private page bucket behind CloudFront, a user pool only admins add people to, and a
dashboard API that serves exactly the page's reads to holders of that pool's tokens, from the page's origin only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito

from infra.application import STACK_NAME
from infra.dashboard import DOMAIN_PREFIX_CONTEXT_KEY, PAGE_DIR, domain_prefix
from infra.dashboard_api import ACCESS_LOG_FORMAT, DASHBOARD_ROUTES, DashboardApi
from infra.topology import TOPOLOGY, Route, Topology
from tests.infra.template import ROOT, Resource, Synthesized, arn_of, as_list

# What the page reads (functions/ledger/dashboard/index.html): the dashboard API serves these and nothing else.
PAGE_READS = {"GET /analytics/sales", "GET /orders", "GET /alerts"}
MANAGED_SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"  # CloudFront's SecurityHeadersPolicy
OUTPUTS = ("DashboardUrl", "DashboardApiUrl", "UserPoolId", "UserPoolClientId", "SignInDomain")


def _one(synthesized: Synthesized, resource_type: str) -> tuple[str, Resource]:
    (found,) = synthesized.of_type(resource_type).items()
    return found


def _distribution(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    name, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    return name, distribution["Properties"]["DistributionConfig"]


def _page_bucket_id(synthesized: Synthesized) -> str:
    """The bucket the distribution's one origin reads."""
    _, config = _distribution(synthesized)
    (origin,) = config["Origins"]
    bucket_id, attribute = origin["DomainName"]["Fn::GetAtt"]
    assert attribute == "RegionalDomainName"
    return str(bucket_id)


def _bucket_statements(synthesized: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _dashboard_url(synthesized: Synthesized) -> dict[str, Any]:
    distribution_id, _ = _distribution(synthesized)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}


def _dashboard_api_id(synthesized: Synthesized) -> str:
    (api_id,) = [
        name
        for name, api in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
        if api["Properties"]["Name"] == f"{STACK_NAME}-dashboard-api"
    ]
    return api_id


def _dashboard_routes(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    api = {"Ref": _dashboard_api_id(synthesized)}
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == api
    }


def _user_pool_id(synthesized: Synthesized) -> str:
    name, _ = _one(synthesized, "AWS::Cognito::UserPool")
    return name


def _client(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    name, client = _one(synthesized, "AWS::Cognito::UserPoolClient")
    return name, client["Properties"]


# --- hosting ---------------------------------------------------------------------------------------------------


def test_page_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http(synthesized: Synthesized) -> None:
    bucket_id = _page_bucket_id(synthesized)
    properties = synthesized.resources[bucket_id]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    denies_plain_http = [
        s
        for s in _bucket_statements(synthesized, bucket_id)
        if s["Effect"] == "Deny"
        and s["Action"] == "s3:*"
        and s["Principal"] == {"AWS": "*"}
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denies_plain_http) == 1
    assert as_list(denies_plain_http[0]["Resource"]) == [
        arn_of(bucket_id),
        {"Fn::Join": ["", [arn_of(bucket_id), "/*"]]},
    ]


def test_page_bucket_logs_its_access_to_a_private_expiring_log_bucket(synthesized: Synthesized) -> None:
    logging = synthesized.resources[_page_bucket_id(synthesized)]["Properties"]["LoggingConfiguration"]
    log_bucket = synthesized.resources[logging["DestinationBucketName"]["Ref"]]["Properties"]
    assert all(log_bucket["PublicAccessBlockConfiguration"].values())
    assert log_bucket["LifecycleConfiguration"]["Rules"] == [{"ExpirationInDays": 90, "Status": "Enabled"}]


def test_only_the_distribution_can_read_the_page_bucket(synthesized: Synthesized) -> None:
    # GIVEN the page bucket's policy WHEN listing what it allows THEN only CloudFront, only GetObject, and only on
    # behalf of this distribution (Origin Access Control signs with the distribution's ARN as the source)
    distribution_id, _ = _distribution(synthesized)
    bucket_id = _page_bucket_id(synthesized)
    allows = [s for s in _bucket_statements(synthesized, bucket_id) if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "s3:GetObject",
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":cloudfront::",
                                {"Ref": "AWS::AccountId"},
                                ":distribution/",
                                {"Ref": distribution_id},
                            ],
                        ]
                    }
                }
            },
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [arn_of(bucket_id), "/*"]]},
        }
    ]


def test_distribution_reads_the_bucket_through_origin_access_control(synthesized: Synthesized) -> None:
    _, config = _distribution(synthesized)
    (origin,) = config["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    oac_id, attribute = origin["OriginAccessControlId"]["Fn::GetAtt"]
    assert attribute == "Id"
    oac = synthesized.resources[oac_id]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_distribution_serves_the_page_over_https_only_with_security_headers(synthesized: Synthesized) -> None:
    _, config = _distribution(synthesized)
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ResponseHeadersPolicyId"] == MANAGED_SECURITY_HEADERS_POLICY
    assert config["DefaultRootObject"] == "index.html"
    assert "CacheBehaviors" not in config  # one behaviour: the bucket, nothing else behind the distribution


def test_distribution_logs_requests_to_the_log_bucket(synthesized: Synthesized) -> None:
    _, config = _distribution(synthesized)
    page_logs = synthesized.resources[_page_bucket_id(synthesized)]["Properties"]["LoggingConfiguration"]
    assert config["Logging"]["Bucket"] == {
        "Fn::GetAtt": [page_logs["DestinationBucketName"]["Ref"], "RegionalDomainName"]
    }


# --- sign-in ---------------------------------------------------------------------------------------------------


def test_only_admins_add_people_who_sign_in_with_their_email_and_an_authenticator(synthesized: Synthesized) -> None:
    pool = synthesized.resources[_user_pool_id(synthesized)]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["MfaConfiguration"] == "ON"  # required: set up in the hosted UI at the first sign-in
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # an authenticator app, no SMS


def test_passwords_are_long_and_mix_four_kinds_of_characters(synthesized: Synthesized) -> None:
    policy = synthesized.resources[_user_pool_id(synthesized)]["Properties"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] is True for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert policy["TemporaryPasswordValidityDays"] <= 7


def test_the_invitation_names_the_dashboard_and_the_temporary_password(synthesized: Synthesized) -> None:
    message = synthesized.resources[_user_pool_id(synthesized)]["Properties"]["AdminCreateUserConfig"]
    body = message["InviteMessageTemplate"]["EmailMessage"]["Fn::Join"][1]
    text = "".join(part for part in body if isinstance(part, str))
    assert "{username}" in text
    assert "{####}" in text
    distribution_id, _ = _distribution(synthesized)
    assert {"Fn::GetAtt": [distribution_id, "DomainName"]} in body


def test_page_client_is_public_and_signs_in_with_the_code_grant_back_to_the_page(synthesized: Synthesized) -> None:
    _, client = _client(synthesized)
    assert client["UserPoolId"] == {"Ref": _user_pool_id(synthesized)}
    assert client["GenerateSecret"] is False  # a page cannot keep a secret: PKCE protects the code instead
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # no implicit grant, no client credentials
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid"]
    assert client["CallbackURLs"] == [_dashboard_url(synthesized)]
    assert client["LogoutURLs"] == [_dashboard_url(synthesized)]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert set(client["ExplicitAuthFlows"]) <= {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_hosted_ui_domain_is_derived_from_the_stack_account_and_region(synthesized: Synthesized) -> None:
    (domain,) = synthesized.of_type("AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["UserPoolId"] == {"Ref": _user_pool_id(synthesized)}
    assert domain["Properties"]["Domain"] == {
        "Fn::Join": ["", ["ledger-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
    }


def test_context_can_name_the_hosted_ui_domain() -> None:
    stack = Stack(App(context={DOMAIN_PREFIX_CONTEXT_KEY: "shop-sales-dashboard"}), "Shop")
    assert domain_prefix(stack) == "shop-sales-dashboard"


@pytest.mark.parametrize("prefix", ["Shop", "shop_sales", "-shop", "my-aws-shop", "x" * 64])
def test_a_domain_prefix_cognito_would_refuse_fails_the_synth(prefix: str) -> None:
    stack = Stack(App(context={DOMAIN_PREFIX_CONTEXT_KEY: prefix}), "Shop")
    with pytest.raises(ValueError, match=DOMAIN_PREFIX_CONTEXT_KEY):
        domain_prefix(stack)


def test_a_stack_name_becomes_a_valid_domain_prefix() -> None:
    stack = Stack(
        App(), "AmazonShop-Ledger-For-The-Whole-Company", env={"account": "123456789012", "region": "eu-west-1"}
    )
    prefix = domain_prefix(stack)
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])", prefix), prefix
    assert prefix.endswith("-123456789012-eu-west-1")
    assert "amazon" not in prefix


# --- dashboard API ---------------------------------------------------------------------------------------------


def test_dashboard_api_serves_exactly_the_pages_reads(synthesized: Synthesized) -> None:
    assert {route.key for route in DASHBOARD_ROUTES} == PAGE_READS
    assert set(_dashboard_routes(synthesized)) == PAGE_READS  # no $default, nothing that writes


def test_the_page_reads_nothing_the_dashboard_api_does_not_serve() -> None:
    # GIVEN the page WHEN collecting the API paths it quotes (a string literal starting with '/', up to '?' or the
    # closing quote) THEN they are exactly the dashboard routes: a new read needs a route in DASHBOARD_ROUTES
    page = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    quoted_paths = set(re.findall(r"[`\"'](/[a-z][A-Za-z0-9/_{}-]*)[?`\"']", page))
    assert {f"GET {path}" for path in quoted_paths} == {route.key for route in DASHBOARD_ROUTES}


def test_a_dashboard_route_no_topology_function_serves_fails_the_synth() -> None:
    stack = Stack(App(), "Shop")
    pool = cognito.UserPool(stack, "Pool")
    with pytest.raises(ValueError, match="GET /analytics/sales"):
        DashboardApi(
            stack,
            "Api",
            topology=Topology(tables=(), functions=()),
            functions={},
            user_pool=pool,
            client=pool.add_client("Client"),
            origin="https://example.cloudfront.net",
        )


def test_every_dashboard_route_is_a_topology_route_of_the_queries_function() -> None:
    # Deployed, each route reaches the function that serves it locally (and that tests/unit register).
    assert {TOPOLOGY.routes[route.key].id for route in DASHBOARD_ROUTES} == {"queries"}


@pytest.mark.parametrize("route", DASHBOARD_ROUTES, ids=lambda route: route.key)
def test_dashboard_route_needs_a_token_of_the_pool_for_the_page_client(synthesized: Synthesized, route: Route) -> None:
    properties = _dashboard_routes(synthesized)[route.key]
    assert properties["AuthorizationType"] == "JWT"
    authorizer = synthesized.resources[properties["AuthorizerId"]["Ref"]]["Properties"]
    client_id, _ = _client(synthesized)
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Audience": [{"Ref": client_id}],
        "Issuer": {
            "Fn::Join": [
                "",
                [
                    "https://cognito-idp.",
                    {"Ref": "AWS::Region"},
                    ".amazonaws.com/",
                    {"Ref": _user_pool_id(synthesized)},
                ],
            ]
        },
    }


@pytest.mark.parametrize("route", DASHBOARD_ROUTES, ids=lambda route: route.key)
def test_dashboard_route_reaches_the_function_that_serves_it(synthesized: Synthesized, route: Route) -> None:
    target = _dashboard_routes(synthesized)[route.key]["Target"]
    integration_id = target["Fn::Join"][1][1]["Ref"]
    integration = synthesized.resources[integration_id]["Properties"]
    assert integration["ApiId"] == {"Ref": _dashboard_api_id(synthesized)}
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert integration["IntegrationUri"] == arn_of(synthesized.function_id(TOPOLOGY.routes[route.key]))


def test_only_the_page_origin_may_call_the_dashboard_api_from_a_browser(synthesized: Synthesized) -> None:
    distribution_id, _ = _distribution(synthesized)
    cors = synthesized.resources[_dashboard_api_id(synthesized)]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}]
    assert sorted(cors["AllowMethods"]) == ["GET", "OPTIONS"]
    assert [header.lower() for header in cors["AllowHeaders"]] == ["authorization"]
    assert not cors.get("AllowCredentials", False)  # a bearer header, no cookies


def test_dashboard_api_stage_is_throttled_and_logs_who_read_what(synthesized: Synthesized) -> None:
    (stage,) = [
        s["Properties"]
        for s in synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": _dashboard_api_id(synthesized)}
    ]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    throttle = stage["DefaultRouteSettings"]
    assert 0 < throttle["ThrottlingRateLimit"] <= throttle["ThrottlingBurstLimit"]
    log_group_id = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] == 90
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert log_format == ACCESS_LOG_FORMAT
    assert log_format["sub"] == "$context.authorizer.claims.sub"


def test_the_service_api_stays_iam_only(synthesized: Synthesized) -> None:
    dashboard = {"Ref": _dashboard_api_id(synthesized)}
    service_routes = [
        r["Properties"]
        for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] != dashboard
    ]
    assert {r["AuthorizationType"] for r in service_routes} == {"AWS_IAM"}


# --- deployment ------------------------------------------------------------------------------------------------


def _deployment(synthesized: Synthesized) -> dict[str, Any]:
    _, deployment = _one(synthesized, "Custom::CDKBucketDeployment")
    properties: dict[str, Any] = deployment["Properties"]
    return properties


def _unquote(value: Any) -> Any:
    """A source marker's value is the token inside JSON quotes (Fn::Join of '"', token, '"'): the token."""
    parts = list(value["Fn::Join"][1])
    assert parts[0].startswith('"')
    assert parts[-1].endswith('"')
    parts[0], parts[-1] = parts[0][1:], parts[-1][:-1]
    parts = [part for part in parts if part != ""]
    return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}


def _deployed_files(synthesized: Synthesized) -> dict[str, Any]:
    """Every file the deployment writes, by name: text with its deploy-time markers replaced by their values."""
    deployment = _deployment(synthesized)
    files: dict[str, Any] = {}
    for key, markers in zip(deployment["SourceObjectKeys"], deployment["SourceMarkers"], strict=True):
        folder = synthesized.outdir / f"asset.{key.removesuffix('.zip')}"
        for path in folder.rglob("*"):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = (path.read_text(encoding="utf-8"), markers)
    return files


def _config(synthesized: Synthesized) -> Any:
    text, markers = _deployed_files(synthesized)["config.json"]
    placeholders = {}
    for marker, value in markers.items():
        placeholder = f"@@{marker}@@"
        text = text.replace(marker, json.dumps(placeholder))
        placeholders[placeholder] = _unquote(value)

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return placeholders.get(node, node) if isinstance(node, str) else node

    return resolve(json.loads(text))


def test_deployment_writes_the_page_to_the_page_bucket_and_invalidates_the_distribution(
    synthesized: Synthesized,
) -> None:
    deployment = _deployment(synthesized)
    distribution_id, _ = _distribution(synthesized)
    assert deployment["DestinationBucketName"] == {"Ref": _page_bucket_id(synthesized)}
    assert deployment["DistributionId"] == {"Ref": distribution_id}
    assert deployment["DistributionPaths"] == ["/*"]
    # The page folder as it is (but Python files and a local config.json), plus the config.json of this stack
    page = {
        path.relative_to(PAGE_DIR).as_posix()
        for path in PAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc")
    }
    assert set(_deployed_files(synthesized)) == page - {"config.json"} | {"config.json", "index.html"}


def test_config_json_tells_the_page_where_the_api_is_and_how_to_sign_in(synthesized: Synthesized) -> None:
    # GIVEN config.json as deployed (markers resolved at deploy) THEN it is the page's contract, with the values of
    # this stack: the dashboard API without trailing slash, the hosted UI, the page client, the page as redirect
    outputs = synthesized.outputs
    assert _config(synthesized) == {
        "api": outputs["DashboardApiUrl"]["Value"],
        "auth": {
            "domain": outputs["SignInDomain"]["Value"],
            "client_id": outputs["UserPoolClientId"]["Value"],
            "redirect_uri": outputs["DashboardUrl"]["Value"],
            "scopes": ["openid", "email"],
        },
    }


def test_outputs_name_the_page_the_api_the_pool_the_client_and_the_sign_in_domain(synthesized: Synthesized) -> None:
    outputs = synthesized.outputs
    client_id, _ = _client(synthesized)
    (domain_id,) = synthesized.of_type("AWS::Cognito::UserPoolDomain")
    assert outputs["DashboardUrl"]["Value"] == _dashboard_url(synthesized)
    assert outputs["DashboardApiUrl"]["Value"] == {"Fn::GetAtt": [_dashboard_api_id(synthesized), "ApiEndpoint"]}
    assert outputs["UserPoolId"]["Value"] == {"Ref": _user_pool_id(synthesized)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": client_id}
    assert outputs["SignInDomain"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Ref": domain_id}, ".auth.", {"Ref": "AWS::Region"}, ".amazoncognito.com"]]
    }


@pytest.mark.parametrize("output", OUTPUTS)
def test_deploy_doc_describes_the_output(output: str) -> None:
    assert f"`{output}`" in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_dashboard_doc_says_how_the_deployed_page_signs_in() -> None:
    text = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    assert "## Deployed dashboard" in text
    assert "config.json" in text
