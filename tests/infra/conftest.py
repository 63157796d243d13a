"""The CDK app is synthesized once per test session (a synth takes seconds): the same app `cdk synth` builds, with
the same context (cdk.json) and the cdk-nag AwsSolutions validation; every infra test reads that one assembly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts node

from aws_cdk.assertions import Template

from infra.application import build_app
from tests.infra.template import Synthesized, cdk_context

FAIL_SYNTH_ON_VALIDATION_ERRORS = "@aws-cdk/core:failSynthOnValidationErrors"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Findings are written to validation-report.json instead of failing the synth, so that an unacknowledged
    # cdk-nag finding fails the tests that check for it (test_nag.py), not every infra test at once.
    context = {**cdk_context(), FAIL_SYNTH_ON_VALIDATION_ERRORS: False}
    app, stack = build_app(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
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


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
