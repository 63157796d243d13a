"""The CDK app is synthesized once per test session (a synth takes seconds): the same app `cdk synth` builds, with
the same context (cdk.json) and the cdk-nag AwsSolutions validation; every infra test reads that one assembly."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts node

from aws_cdk.assertions import Template

from tests.infra.template import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
