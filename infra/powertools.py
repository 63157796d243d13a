"""The Powertools for AWS Lambda (Python) public layer, pinned to the version in requirements.txt.

The layer ARN is resolved by CloudFormation at deploy time from the public SSM parameter AWS publishes for each
architecture, Python version and Powertools version, so `cdk synth` needs no AWS call. The context key
`powertools_layer_arn` replaces it with an explicit ARN (a region without the parameter, a private mirror).

Powertools publishes those parameters in some regions only (`SSM_PARAMETER_REGIONS`). When the synth knows the region
it deploys to (the stack's `env`, or the region `cdk deploy` targets, which the CDK CLI passes the app as
CDK_DEFAULT_REGION) and the parameter is not published there, the synth stops with a message naming the context
override, instead of a deploy failing later on a template parameter it cannot resolve.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from aws_cdk import Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

REQUIREMENTS: Final = Path(__file__).resolve().parent.parent / "requirements.txt"
LAYER_ARN_CONTEXT_KEY: Final = "powertools_layer_arn"
REGION_VARIABLE: Final = "CDK_DEFAULT_REGION"  # set by the CDK CLI: the region of the credentials it deploys with
# The regions where Powertools writes /aws/service/powertools/python/... (its release workflow, update_ssm.yml in
# aws-powertools/powertools-lambda-python, writes them region by region): commercial regions only, not all of them;
# none in GovCloud or China, where the layer is published (or not) without the parameter.
SSM_PARAMETER_REGIONS: Final = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
_PIN = re.compile(r"^aws-lambda-powertools(?:\[[^\]]*\])?==(?P<version>[0-9][0-9A-Za-z.]*)\s*(?:#.*)?$")


class PowertoolsLayerUnavailableError(ValueError):
    """The region has no Powertools SSM parameter and no layer ARN was given: the deploy could not resolve one."""


def pinned_version(requirements: Path = REQUIREMENTS) -> str:
    """The exact Powertools version requirements.txt pins (the functions are tested against it)."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            return match["version"]
    raise ValueError(f"{requirements} pins no aws-lambda-powertools==<version>")


def ssm_parameter_name(runtime: lambda_.Runtime, architecture: lambda_.Architecture, version: str) -> str:
    """E.g. /aws/service/powertools/python/arm64/python3.14/3.37.0."""
    return f"/aws/service/powertools/python/{architecture.name}/{runtime.name}/{version}"


def target_region(scope: Construct) -> str | None:
    """The region the stack deploys to, when the synth knows it: its `env`, else the CDK CLI's CDK_DEFAULT_REGION."""
    region = Stack.of(scope).region
    if not Token.is_unresolved(region):
        return region
    return os.environ.get(REGION_VARIABLE) or None


def powertools_layer(
    scope: Construct, construct_id: str, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    override = scope.node.try_get_context(LAYER_ARN_CONTEXT_KEY)
    if override:
        arn = str(override)
    else:
        name = ssm_parameter_name(runtime, architecture, pinned_version())
        region = target_region(scope)
        if region is not None and region not in SSM_PARAMETER_REGIONS:
            raise PowertoolsLayerUnavailableError(
                f"Powertools publishes no SSM parameter {name} in {region}, so CloudFormation could not resolve the "
                f"functions' layer there. Give the layer's ARN with the context key {LAYER_ARN_CONTEXT_KEY}: "
                f"npx cdk deploy -c {LAYER_ARN_CONTEXT_KEY}=arn:aws:lambda:{region}:<account>:layer:<name>:<version> "
                f"(a layer of Powertools {pinned_version()} for {runtime.name} on {architecture.name}; "
                "docs/deploy.md, 'The Powertools layer')."
            )
        arn = ssm.StringParameter.value_for_string_parameter(scope, name)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
