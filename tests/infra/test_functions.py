"""The Lambda functions: one per topology function, with runtime, architecture, layer, tracing, logs and settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Capture

from infra.powertools import LAYER_ARN_CONTEXT_KEY, powertools_layer
from infra.topology import TOPOLOGY, Function
from tests.infra.template import Synthesized

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)


def _pinned_powertools() -> str:
    pin = re.search(
        r"^aws-lambda-powertools==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert pin is not None
    return pin[1]


@FUNCTIONS
def test_function_runs_the_newest_python_on_arm64_with_active_tracing(synthesized: Synthesized, spec: Function) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": spec.handler,
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "MemorySize": spec.memory_mb,
            "Timeout": spec.timeout_seconds,
        },
    )


@FUNCTIONS
def test_function_uses_the_powertools_layer_pinned_in_requirements(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN requirements.txt pins Powertools WHEN synthesized THEN the layer ARN comes, at deploy time, from AWS's
    # public SSM parameter for that exact version, arm64 and python3.14
    layer = Capture()
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": spec.handler, "Layers": [{"Ref": layer}]}
    )
    synthesized.template.has_parameter(
        layer.as_string(),
        {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": f"/aws/service/powertools/python/arm64/python3.14/{_pinned_powertools()}",
        },
    )


def test_context_can_replace_the_powertools_layer_arn() -> None:
    # GIVEN an explicit layer ARN in the context WHEN the layer is resolved THEN that ARN is used, no SSM parameter
    arn = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:99"
    stack = Stack(App(context={LAYER_ARN_CONTEXT_KEY: arn}), "Stack")
    layer = powertools_layer(
        stack, "Layer", runtime=lambda_.Runtime.PYTHON_3_14, architecture=lambda_.Architecture.ARM_64
    )
    assert layer.layer_version_arn == arn
    # and without it, the ARN is a deploy-time value (the SSM parameter), not anything looked up at synth
    default = powertools_layer(
        Stack(App(), "Other"), "Layer", runtime=lambda_.Runtime.PYTHON_3_14, architecture=lambda_.Architecture.ARM_64
    )
    assert Token.is_unresolved(default.layer_version_arn)


@FUNCTIONS
def test_function_finds_every_table_name_and_the_shared_settings(synthesized: Synthesized, spec: Function) -> None:
    variables = synthesized.function(spec)["Properties"]["Environment"]["Variables"]
    for table in TOPOLOGY.tables:
        assert variables[table.env_var] == {"Ref": synthesized.table_id(table)}, table.env_var
    for stream in TOPOLOGY.streams:  # Ref of a Kinesis stream is its name
        assert variables[stream.env_var] == {"Ref": synthesized.stream_id(stream)}, stream.env_var
    for topic in TOPOLOGY.topics:  # Ref of an SNS topic is its ARN
        assert variables[topic.env_var] == {"Ref": synthesized.topic_id(topic)}, topic.env_var
    for name, value in TOPOLOGY.environment.items():
        assert variables[name] == value, name
    assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"


@FUNCTIONS
def test_function_finds_the_stream_of_each_aggregate_type(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN EVENT_STREAMS, a JSON object whose values are the streams' names (Refs joined into the JSON at deploy)
    joined = synthesized.function(spec)["Properties"]["Environment"]["Variables"]["EVENT_STREAMS"]
    separator, parts = joined["Fn::Join"]
    rendered = separator.join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)
    # THEN every aggregate type the topology assigns to a stream is routed to that stream's name
    expected = {t: f"<{synthesized.stream_id(s)}>" for s in TOPOLOGY.streams for t in s.aggregate_types}
    assert json.loads(rendered) == expected
    assert set(expected) == {"Account", "Order", "Stock", "Shipment", "Customer"}


@FUNCTIONS
def test_function_logs_to_its_own_log_group_with_a_retention(synthesized: Synthesized, spec: Function) -> None:
    log_group_id = synthesized.function(spec)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = synthesized.resources[log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 30
    others = [f for f in TOPOLOGY.functions if f != spec]
    for other in others:
        assert synthesized.function(other)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] != log_group_id


@FUNCTIONS
def test_function_code_holds_its_handler_and_nothing_else(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN the staged code asset WHEN looking for the handler module THEN it is there, caches and tests are not
    s3_key = synthesized.function(spec)["Properties"]["Code"]["S3Key"]
    asset = synthesized.outdir / f"asset.{s3_key.removesuffix('.zip')}"
    module, _ = spec.handler.rsplit(".", 1)
    assert (asset / (module.replace(".", "/") + ".py")).is_file()
    staged = [path.relative_to(asset).as_posix() for path in asset.rglob("*")]
    assert [p for p in staged if "__pycache__" in p or p.endswith(".pyc") or "/tests/" in f"/{p}"] == []
