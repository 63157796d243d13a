"""cdk-nag AwsSolutions: no finding is left unacknowledged, and every acknowledgment is narrow and explained."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from aws_cdk import App, CfnElement, CfnResource, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra.application import STACK_NAME
from infra.naming import pascal
from infra.stack import LedgerStack
from infra.topology import TOPOLOGY
from tests.infra.template import Synthesized, cdk_context


def _acknowledgments(root: IConstruct) -> list[tuple[IConstruct, str, str]]:
    found: list[tuple[IConstruct, str, str]] = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                data: dict[str, Any] = entry.data
                found += [(construct, rule, reason) for rule, reason in data.items()]
    return found


def test_aws_solutions_checks_find_nothing_unacknowledged(synthesized: Synthesized) -> None:
    # GIVEN the synthesized app WHEN the AwsSolutions pack checks every resource THEN no error and no warning remains
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    violations = [
        f"{v.rule_name} at {[r.construct_path for r in v.violating_resources]}: {v.description}"
        for v in report.violations
    ]
    assert violations == []
    assert report.success


def test_synth_ran_the_checks_and_reported_no_violation(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text(encoding="utf-8"))
    assert [violation for plugin in report["pluginReports"] for violation in plugin.get("violations", [])] == []


def test_acknowledgments_are_scoped_to_a_construct_and_give_a_reason(synthesized: Synthesized) -> None:
    acknowledgments = _acknowledgments(synthesized.app)
    assert acknowledgments, "the X-Ray wildcard acknowledgments are expected"
    for construct, rule, reason in acknowledgments:
        assert not isinstance(construct, App | Stack), f"{rule} acknowledged for a whole {construct.node.path}"
        # A rule with several findings per resource (IAM4/IAM5) is acknowledged one finding at a time; any other
        # rule only on the one resource it is about (its L2 construct, holding a single CloudFormation resource).
        resources = [c for c in construct.node.find_all() if isinstance(c, CfnResource)]
        assert "[" in rule or len(resources) == 1, f"{rule} acknowledged for {len(resources)} resources"
        assert len(reason) >= 60, f"{rule} at {construct.node.path}: the reason is too thin to audit"


def test_without_its_acknowledgments_the_stack_has_exactly_the_acknowledged_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the same stack built while every acknowledgment is dropped WHEN checked THEN the findings are exactly
    # those the acknowledgments cover: the checks are live, and removing an acknowledgment fails the tests above
    monkeypatch.setattr(Validations, "acknowledge", lambda self, *rules: None)
    app = App(context=cdk_context())
    stack = LedgerStack(app, STACK_NAME)
    report = AwsSolutionsChecks().validate_scope(app)
    findings = {
        (violation.rule_name, resource.construct_path)
        for violation in report.violations
        for resource in violation.violating_resources
    }
    xray = {
        ("AwsSolutions-IAM5[Resource::*]", f"{STACK_NAME}/Functions/{function.id}/Role/DefaultPolicy/Resource")
        for function in TOPOLOGY.functions
    }
    # Python 3.13, not the newest runtime, on purpose (infra/functions.py: bytecode for the runtime's own version)
    runtime_one_behind = {
        ("AwsSolutions-L1", f"{STACK_NAME}/Functions/{function.id}/Function/Resource")
        for function in TOPOLOGY.functions
    }
    # Customer-managed stream keys, on purpose (infra/messaging.py): a cost warning, acknowledged per stream
    customer_managed_stream_keys = {
        ("AwsSolutions-KDS3", f"{STACK_NAME}/Messaging/{pascal(stream.id)}Stream/Resource")
        for stream in TOPOLOGY.streams
    }
    # The on-failure queues are themselves the dead-letter queues of the mappings, which cdk-nag does not recognise
    on_failure_queues = {
        ("AwsSolutions-SQS3", f"{STACK_NAME}/Pipeline/{function.id}-{source.kind}-{source.source}/Failures/Resource")
        for function in TOPOLOGY.functions
        for source in function.event_sources
    }
    acknowledged = xray | runtime_one_behind | customer_managed_stream_keys | on_failure_queues
    assert findings == acknowledged | _archive_findings(stack) | _dashboard_findings(stack)


def _archive_findings(stack: LedgerStack) -> set[tuple[str, str]]:
    """infra/archive.py: no SSE for a delivery stream whose source is a Kinesis stream; objects under a prefix."""
    if stack.archive is None:
        return set()
    bucket = stack.get_logical_id(cast(CfnElement, stack.archive.bucket.node.default_child))
    archive = f"{STACK_NAME}/Archive"
    deliveries = {("AwsSolutions-KDF1", f"{archive}/{pascal(s.id)}/Delivery") for s in TOPOLOGY.published_streams}
    prefixes = {
        (
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{prefix}*]",
            f"{archive}/{pascal(s.id)}/Role/DefaultPolicy/Resource",
        )
        for s in TOPOLOGY.published_streams
        for prefix in ("events/", "errors/")
    }
    return deliveries | prefixes


def _dashboard_findings(stack: LedgerStack) -> set[tuple[str, str]]:
    """infra/dashboard.py: what the distribution, the user pool and the page deployment are acknowledged for."""
    dashboard = f"{STACK_NAME}/Dashboard"
    # No custom domain (the default certificate's TLS policy), no geo restriction, no WAF, for a page with no data
    distribution = {(f"AwsSolutions-CFR{n}", f"{dashboard}/Distribution/Resource") for n in (1, 2, 4)}
    # The Essentials plan rather than Plus
    user_pool = {("AwsSolutions-COG8", f"{dashboard}/UserPool/Resource")}
    # BucketDeployment's own grants to its role, and the runtime aws-cdk-lib chose for its function
    page_bucket = stack.get_logical_id(cast(CfnElement, stack.dashboard.bucket.node.default_child))
    deployment_grants = {
        (f"AwsSolutions-IAM5[{finding}]", f"{dashboard}/DeploymentRole/DefaultPolicy/Resource")
        for finding in (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            f"Resource::<{page_bucket}.Arn>/*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
            "Resource::*",
        )
    }
    (handler,) = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
    deployment_runtime = {("AwsSolutions-L1", f"{handler.node.path}/Resource")}
    return distribution | user_pool | deployment_grants | deployment_runtime
