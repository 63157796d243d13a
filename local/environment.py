"""The environment of the local runtime and of each function it runs: moto's endpoint, fake credentials, and the
variables the CDK stack gives the deployed function (tables' names from the topology, its shared settings)."""

from __future__ import annotations

from typing import Final

from infra.topology import Function, Topology

LOCAL_ACCOUNT_ID: Final = "123456789012"  # moto's default account


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What every AWS client of the runtime needs: moto's endpoint and fake credentials, so that no call can reach
    a real AWS account whatever the developer's shell exports."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


# Variables of the developer's shell that would send boto3 elsewhere or sign as someone real.
SCRUBBED: Final = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def function_name(function: Function) -> str:
    return f"ledger-{function.id}"


def function_environment(topology: Topology, function: Function, *, endpoint_url: str, region: str) -> dict[str, str]:
    """What the deployed function sees, pointed at moto: the tables' names and the topology's shared settings, plus
    what the Lambda service sets."""
    return {
        **aws_environment(endpoint_url, region),
        **{table.env_var: table.local_name for table in topology.tables},
        **topology.environment,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function_name(function),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    }
