"""The Lambda functions of the topology: code, runtime, layer, logs, tracing, environment and IAM role."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, cast

from aws_cdk import Acknowledgment, Annotations, CfnResource, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.access import Resources, function_statements
from infra.bytecode import ASSET_HASH_TYPE, SOURCE, bundling
from infra.powertools import powertools_layer
from infra.topology import Function, Topology

# Python 3.13, not the newest runtime (3.14): the asset carries bytecode, which must come from the runtime's own
# minor version, and 3.13 is the one this project builds and measures with (infra/bytecode.py, docs/benchmark.md).
RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH
LOG_LEVEL: Final = "INFO"


class LedgerFunctions(Construct):
    """One Lambda function per topology function, each with its own role that holds exactly the topology's
    access and the reads its event sources need (no AWS managed policies), its own log group with a retention,
    and X-Ray active tracing. Every function gets the same environment: where each table, stream and topic is."""

    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology, resources: Resources) -> None:
        super().__init__(scope, construct_id)
        self._topology = topology
        self._resources = resources
        self._code = self._asset()
        self._layer = powertools_layer(self, "PowertoolsLayer", runtime=RUNTIME, architecture=ARCHITECTURE)
        self._environment = {
            **{table.env_var: resources.tables[table.id].table_name for table in topology.tables},
            **{stream.env_var: resources.streams[stream.id].stream_name for stream in topology.streams},
            **{topic.env_var: resources.topics[topic.id].topic_arn for topic in topology.topics},
            "EVENT_STREAMS": topology.event_streams(lambda stream: resources.streams[stream.id].stream_name),
            **topology.environment,
            "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
        }
        self.roles: dict[str, iam.Role] = {}
        self.functions: Mapping[str, lambda_.Function] = MappingProxyType(
            {function.id: self._function(function) for function in topology.functions}
        )

    def _asset(self) -> lambda_.AssetCode:
        version = RUNTIME.name.removeprefix("python")
        options, python = bundling(version)
        if python is None:
            Annotations.of(self).add_warning_v2(
                "ledger:no-bytecode",
                f"No Python {version} found (set LAMBDA_PYTHON, or put python{version} on the PATH): the functions' "
                "asset carries no bytecode, so every cold start compiles the application's modules (20-50 ms).",
            )
        return lambda_.Code.from_asset(str(SOURCE), bundling=options, asset_hash_type=ASSET_HASH_TYPE)

    def _function(self, spec: Function) -> lambda_.Function:
        scope = Construct(self, spec.id)
        log_group = logs.LogGroup(scope, "Logs", retention=LOG_RETENTION)
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.id} function: its topology access, its event sources, its log group, X-Ray",
        )
        self.roles[spec.id] = role
        for statement in function_statements(spec, self._topology, self._resources):
            role.add_to_policy(statement)
        log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code,
            handler=spec.handler,
            layers=[self._layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            environment=self._environment,
            tracing=lambda_.Tracing.ACTIVE,  # Lambda's segments; the code carries no tracing library (docs/tracing.md)
            log_group=log_group,
            role=role,
        )
        # CDK makes the function depend on its role construct (the role and its policy, so the policy exists before
        # the function can run); cfn-lint W3005 flags the role half as already implied by Fn::GetAtt. Harmless.
        cast(CfnResource, function.node.default_child).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        Validations.of(role).acknowledge(
            Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=_wildcard_reason(spec))
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.13, one minor version behind the newest runtime (supported until 2029-06): the asset "
                "ships bytecode compiled by the runtime's own minor version, and 3.13 is the one the build and the "
                "cold-start benchmark run here (infra/bytecode.py).",
            )
        )
        return function


def _wildcard_reason(spec: Function) -> str:
    """Why the role has statements on '*': X-Ray's (every function) and ListStreams (DynamoDB stream readers)."""
    reason = (
        "xray:PutTraceSegments and xray:PutTelemetryRecords (added by active tracing) use Resource '*': X-Ray "
        "supports no resource-level permissions for them."
    )
    if any(source.kind == "dynamodb" for source in spec.event_sources):
        reason += (
            " So does dynamodb:ListStreams, which Lambda's poller calls with this role to find the table's stream: "
            "it has no resource-level permissions, so it has a statement of its own and the stream reads "
            "(DescribeStream, GetRecords, GetShardIterator) stay on the stream's ARN."
        )
    return reason + " Every other DynamoDB, Kinesis, SNS, SQS, KMS and Logs statement names its resource."
