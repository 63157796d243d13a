"""The environment of the local runtime and of each function it runs: moto's endpoint, fake credentials, and the
variables the CDK stack gives the deployed function (tables' and Kinesis streams' names, topics' ARNs, the
topology's shared settings), plus the ARNs the local runtime gives its functions, topics and roles."""

from __future__ import annotations

from typing import Final

from infra.topology import Function, Topic, Topology

LOCAL_ACCOUNT_ID: Final = "123456789012"  # moto's default account
LOCAL_ARCHIVE_BUCKET: Final = "ledger-archive"  # the archive's bucket on moto (local/archive.py)


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


def function_access_key(function: Function) -> str:
    """The fake access key the function's execution environments sign with: the runtime's own (`local`) and its id."""
    return f"local-{function.id}"


def function_arn(function: Function, region: str) -> str:
    return f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name(function)}"


def role_arn(function: Function) -> str:
    """The execution role Lambda names as a Kinesis record's `invokeIdentityArn`."""
    return f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{function_name(function)}-role"


def topic_arn(topic: Topic, region: str) -> str:
    return f"arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{topic.name}"


def kinesis_stream_arn(name: str, region: str) -> str:
    return f"arn:aws:kinesis:{region}:{LOCAL_ACCOUNT_ID}:stream/{name}"


def settings_environment(topology: Topology, *, region: str) -> dict[str, str]:
    """The functions' own settings, as the CDK stack sets them, with the local names: the tables' and Kinesis
    streams' names, the topics' ARNs, the publisher's routing and the topology's shared settings."""
    return {
        **{table.env_var: table.local_name for table in topology.tables},
        **{stream.env_var: stream.name for stream in topology.streams},
        **{topic.env_var: topic_arn(topic, region) for topic in topology.topics},
        "EVENT_STREAMS": topology.event_streams(lambda stream: stream.name),
        **topology.environment,
    }


def resource_environment(topology: Topology, *, endpoint_url: str, region: str) -> dict[str, str]:
    """What every function (and `python -m ledger.rebuild`) reads, pointed at moto: `settings_environment` and
    moto's endpoint with fake credentials."""
    return {
        **aws_environment(endpoint_url, region),
        **settings_environment(topology, region=region),
    }


def tools_environment(topology: Topology, *, endpoint_url: str, region: str) -> dict[str, str]:
    """What the operators' tools (`python -m ledger.rebuild`, `ledger.archive`) read: `resource_environment` and the
    archive's bucket (local/archive.py), which no function is given."""
    archive = {topology.archive.bucket_env_var: LOCAL_ARCHIVE_BUCKET} if topology.archive is not None else {}
    return {**resource_environment(topology, endpoint_url=endpoint_url, region=region), **archive}


def function_environment(topology: Topology, function: Function, *, endpoint_url: str, region: str) -> dict[str, str]:
    """What the deployed function sees, pointed at moto (`resource_environment`), plus what the Lambda service
    sets. Its access key is its own (`local-<function id>`, as its role is its own), so that moto's requests say
    which function made them (local/aws_calls.py)."""
    return {
        **resource_environment(topology, endpoint_url=endpoint_url, region=region),
        "AWS_ACCESS_KEY_ID": function_access_key(function),
        "AWS_LAMBDA_FUNCTION_NAME": function_name(function),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    }
