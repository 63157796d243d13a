"""Small readers over the synthesized CloudFormation template: find resources by what they are (a function by
its handler, a table by its key), not by generated logical ids, and gather a role's effective statements."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.application import build_app
from infra.stack import LedgerStack
from infra.topology import TOPOLOGY, EventSource, Function, KinesisStream, Table, Topic

Resource = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]


FAIL_SYNTH_ON_VALIDATION_ERRORS = "@aws-cdk/core:failSynthOnValidationErrors"


def cdk_context() -> dict[str, Any]:
    """The context `cdk synth` runs the app with (cdk.json): the tests synthesize the same app."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


def synthesize(outdir: Path) -> Synthesized:
    """The app `cdk synth` builds, with the same context and the cdk-nag AwsSolutions validation, synthesized to
    `outdir` (a few seconds: the infra tests do it once per session). Findings go to validation-report.json instead
    of failing the synth, so that an unacknowledged cdk-nag finding fails the tests that check for it (test_nag.py),
    not every test at once."""
    context = {**cdk_context(), FAIL_SYNTH_ON_VALIDATION_ERRORS: False}
    app, stack = build_app(context=context, outdir=str(outdir))
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    return Synthesized(
        app=app,
        stack=stack,
        outdir=Path(assembly.directory),
        template=Template.from_json(artifact.template),
        resources=artifact.template["Resources"],
        outputs=artifact.template.get("Outputs", {}),
        parameters=artifact.template.get("Parameters", {}),
    )


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: LedgerStack
    outdir: Path
    template: Template
    resources: dict[str, Resource]
    outputs: dict[str, Any]
    parameters: dict[str, Any]

    def of_type(self, resource_type: str) -> dict[str, Resource]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def table_id(self, table: Table) -> str:
        """Logical id of the table shaped like the topology table: its keys, its index names, its TTL attribute."""
        matches = [
            name
            for name, resource in self.of_type("AWS::DynamoDB::Table").items()
            if _table_shape(resource["Properties"]) == _topology_table_shape(table)
        ]
        assert len(matches) == 1, f"expected one table shaped like {table.id}, found {matches}"
        return matches[0]

    def stream_id(self, stream: KinesisStream) -> str:
        (match,) = [
            name
            for name, resource in self.of_type("AWS::Kinesis::Stream").items()
            if resource["Properties"].get("Name") == stream.name
        ]
        return match

    def topic_id(self, topic: Topic) -> str:
        (match,) = [
            name
            for name, resource in self.of_type("AWS::SNS::Topic").items()
            if resource["Properties"].get("TopicName") == topic.name
        ]
        return match

    def source_arn(self, source: EventSource) -> dict[str, Any]:
        """The ARN an event source mapping of `source` reads: the table's stream or the Kinesis stream."""
        if source.kind == "dynamodb":
            return {"Fn::GetAtt": [self.table_id(TOPOLOGY.table(source.source)), "StreamArn"]}
        return arn_of(self.stream_id(TOPOLOGY.stream(source.source)))

    def mapping_id(self, function: Function, source: EventSource) -> str:
        """The event source mapping that invokes the function with records of the source."""
        function_ref = {"Ref": self.function_id(function)}
        matches = [
            name
            for name, resource in self.of_type("AWS::Lambda::EventSourceMapping").items()
            if resource["Properties"]["FunctionName"] == function_ref
            and resource["Properties"]["EventSourceArn"] == self.source_arn(source)
        ]
        assert len(matches) == 1, f"expected one mapping of {source.source} to {function.id}, found {matches}"
        return matches[0]

    def failure_queue_id(self, function: Function, source: EventSource) -> str:
        destination = self.resources[self.mapping_id(function, source)]["Properties"]["DestinationConfig"]
        queue = destination["OnFailure"]["Destination"]
        assert set(queue) == {"Fn::GetAtt"}, queue
        assert queue["Fn::GetAtt"][1] == "Arn", queue
        return str(queue["Fn::GetAtt"][0])

    def function_id(self, function: Function) -> str:
        matches = [
            name
            for name, resource in self.of_type("AWS::Lambda::Function").items()
            if resource["Properties"].get("Handler") == function.handler
        ]
        assert len(matches) == 1, f"expected one function with handler {function.handler}, found {matches}"
        return matches[0]

    def function(self, function: Function) -> Resource:
        return self.resources[self.function_id(function)]

    def role_id(self, function: Function) -> str:
        role = self.function(function)["Properties"]["Role"]
        assert set(role) == {"Fn::GetAtt"}, role
        return str(role["Fn::GetAtt"][0])

    def statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every Allow/Deny statement that applies to the role: its inline policies and attached AWS::IAM::Policy."""
        statements: list[dict[str, Any]] = []
        for policy in self.resources[role_id]["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements

    def all_statements(self) -> Iterator[dict[str, Any]]:
        for resource in self.resources.values():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                yield from resource["Properties"]["PolicyDocument"]["Statement"]
            if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
                for policy in resource["Properties"].get("Policies", []):
                    yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(statement: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement's actions cover `action` (wildcards included: '*', 'dynamodb:*', 'dynamodb:Up*')."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:  # an Allow with NotAction grants (nearly) everything: count it as granting
        return True
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(statement["Action"]))


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether a (possibly intrinsic) value mentions the logical id: Ref, Fn::GetAtt, or inside Fn::Join/Fn::Sub."""
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] == logical_id:
            return True
        return any(refers_to(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(refers_to(v, logical_id) for v in value)
    if isinstance(value, str):
        return "${" + logical_id + "." in value or "${" + logical_id + "}" in value
    return False


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _table_shape(properties: dict[str, Any]) -> tuple[Any, ...]:
    ttl = properties.get("TimeToLiveSpecification", {}).get("AttributeName")
    return (
        [(key["AttributeName"], key["KeyType"]) for key in properties["KeySchema"]],
        sorted(index["IndexName"] for index in properties.get("LocalSecondaryIndexes", [])),
        sorted(index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])),
        ttl,
    )


def _topology_table_shape(table: Table) -> tuple[Any, ...]:
    keys = [(table.partition_key.name, "HASH")]
    if table.sort_key:
        keys.append((table.sort_key.name, "RANGE"))
    return (
        keys,
        sorted(index.name for index in table.local_indexes),
        sorted(index.name for index in table.global_indexes),
        table.ttl_attribute,
    )
