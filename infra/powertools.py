"""The Powertools for AWS Lambda (Python) public layer, pinned to the version in requirements.txt.

The layer ARN is resolved by CloudFormation at deploy time from the public SSM parameter AWS publishes for each
architecture, Python version and Powertools version, so `cdk synth` needs no AWS call. The context key
`powertools_layer_arn` replaces it with an explicit ARN (a region without the parameter, a private mirror).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

REQUIREMENTS: Final = Path(__file__).resolve().parent.parent / "requirements.txt"
LAYER_ARN_CONTEXT_KEY: Final = "powertools_layer_arn"
_PIN = re.compile(r"^aws-lambda-powertools(?:\[[^\]]*\])?==(?P<version>[0-9][0-9A-Za-z.]*)\s*(?:#.*)?$")


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


def powertools_layer(
    scope: Construct, construct_id: str, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    override = scope.node.try_get_context(LAYER_ARN_CONTEXT_KEY)
    if override:
        arn = str(override)
    else:
        name = ssm_parameter_name(runtime, architecture, pinned_version())
        arn = ssm.StringParameter.value_for_string_parameter(scope, name)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
