"""The Lambda functions: one per topology function, with runtime, architecture, layer, tracing, logs and settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack, Token
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Capture

from infra.application import build_app
from infra.functions import RUNTIME
from infra.powertools import (
    LAYER_ARN_CONTEXT_KEY,
    REGION_VARIABLE,
    PowertoolsLayerUnavailableError,
    powertools_layer,
)
from infra.topology import TOPOLOGY, Function
from tests.infra.template import Synthesized, cdk_context

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = pytest.mark.parametrize("spec", TOPOLOGY.functions, ids=lambda f: f.id)


def _pinned_powertools() -> str:
    pin = re.search(
        r"^aws-lambda-powertools==(\S+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert pin is not None
    return pin[1]


@FUNCTIONS
def test_function_runs_python_3_13_on_arm64_with_active_tracing(synthesized: Synthesized, spec: Function) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": spec.handler,
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "MemorySize": spec.memory_mb,
            "Timeout": spec.timeout_seconds,
        },
    )


@FUNCTIONS
def test_function_uses_the_powertools_layer_pinned_in_requirements(synthesized: Synthesized, spec: Function) -> None:
    # GIVEN requirements.txt pins Powertools WHEN synthesized THEN the layer ARN comes, at deploy time, from AWS's
    # public SSM parameter for that exact version, arm64 and python3.13
    layer = Capture()
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": spec.handler, "Layers": [{"Ref": layer}]}
    )
    synthesized.template.has_parameter(
        layer.as_string(),
        {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": f"/aws/service/powertools/python/arm64/python3.13/{_pinned_powertools()}",
        },
    )


def test_context_can_replace_the_powertools_layer_arn() -> None:
    # GIVEN an explicit layer ARN in the context WHEN the layer is resolved THEN that ARN is used, no SSM parameter
    arn = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:99"
    stack = Stack(App(context={LAYER_ARN_CONTEXT_KEY: arn}), "Stack")
    layer = powertools_layer(
        stack, "Layer", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64
    )
    assert layer.layer_version_arn == arn
    # and without it, the ARN is a deploy-time value (the SSM parameter), not anything looked up at synth
    default = powertools_layer(
        Stack(App(), "Other"), "Layer", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64
    )
    assert Token.is_unresolved(default.layer_version_arn)


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "ap-east-2"])
def test_a_region_without_the_powertools_parameter_stops_the_synth_naming_the_context_override(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN `cdk deploy` to a region where Powertools publishes no SSM parameter (the CLI tells the app which region
    # it deploys to in CDK_DEFAULT_REGION) WHEN the app is synthesized THEN it stops, saying what to give instead
    monkeypatch.setenv(REGION_VARIABLE, region)
    with pytest.raises(PowertoolsLayerUnavailableError) as refused:
        build_app(context=cdk_context())
    message = str(refused.value)
    assert f"-c {LAYER_ARN_CONTEXT_KEY}=arn:aws:lambda:{region}:" in message
    assert f"/aws/service/powertools/python/arm64/python3.13/{_pinned_powertools()}" in message
    # the same for a stack whose env names the region
    with pytest.raises(PowertoolsLayerUnavailableError, match=LAYER_ARN_CONTEXT_KEY):
        powertools_layer(
            Stack(App(), "Pinned", env=Environment(region=region)),
            "Layer",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
        )


def test_the_context_override_serves_a_region_without_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REGION_VARIABLE, "us-gov-west-1")
    arn = "arn:aws-us-gov:lambda:us-gov-west-1:165087284144:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:9"
    layer = powertools_layer(
        Stack(App(context={LAYER_ARN_CONTEXT_KEY: arn}), "Stack"),
        "Layer",
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
    )
    assert layer.layer_version_arn == arn


@pytest.mark.parametrize("region", [None, "eu-west-1", "us-east-1"])
def test_a_region_with_the_parameter_or_none_known_resolves_the_layer_at_deploy(
    region: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an environment-agnostic synth (no region known: `make synth` without one) cannot tell, and leaves it to the
    # deploy's parameter
    if region is None:
        monkeypatch.delenv(REGION_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(REGION_VARIABLE, region)
    layer = powertools_layer(
        Stack(App(), "Stack"), "Layer", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64
    )
    assert Token.is_unresolved(layer.layer_version_arn)


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
    expected: dict[str, str | list[str]] = {
        t: f"<{synthesized.stream_id(s)}>" for s in TOPOLOGY.streams for t in s.aggregate_types
    }
    assert set(expected) == {"Account", "Order", "Stock", "Shipment", "Customer"}
    # AND the heartbeat's type to every one of those streams
    assert TOPOLOGY.heartbeat is not None
    expected[TOPOLOGY.heartbeat.aggregate_type] = [
        f"<{synthesized.stream_id(s)}>" for s in TOPOLOGY.streams if s.aggregate_types
    ]
    assert json.loads(rendered) == expected


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
    # GIVEN the staged code asset WHEN looking for the handler module THEN it is there; tests, tool caches and
    # bytecode of any Python but the runtime's are not (test_asset.py checks the runtime's)
    s3_key = synthesized.function(spec)["Properties"]["Code"]["S3Key"]
    asset = synthesized.outdir / f"asset.{s3_key.removesuffix('.zip')}"
    module, _ = spec.handler.rsplit(".", 1)
    assert (asset / (module.replace(".", "/") + ".py")).is_file()
    staged = [path.relative_to(asset).as_posix() for path in asset.rglob("*")]
    runtime_tag = "cpython-" + RUNTIME.name.removeprefix("python").replace(".", "")
    foreign = [p for p in staged if p.endswith(".pyc") and runtime_tag not in p]
    assert foreign == []
    assert [
        p for p in staged if "/tests/" in f"/{p}/" or "_cache" in p or p.rpartition("/")[2].startswith("test_")
    ] == []
    assert sorted({p.split("/")[0] for p in staged}) == ["ledger"]
