"""Every IAM policy the stack synthesizes passes parliament (duo-labs' IAM linter, which knows AWS's catalogue of
actions, resource types and condition keys): the functions' roles, the page deployment's role, the trust policies, the
keys', topic's, queues' and buckets' policies and the Lambda permissions. Each finding left is a known false positive
or a grant of aws-cdk-lib's own, suppressed below with its reason; a suppression that no longer matches fails too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from parliament import analyze_policy_string  # type: ignore[import-untyped]  # no type information

from infra.topology import TOPOLOGY
from tests.infra.policies import PolicyDocument, Resolver, policy_documents
from tests.infra.template import Synthesized


@dataclass(frozen=True)
class Suppression:
    issue: str  # parliament's finding id
    where: str  # a regex over PolicyDocument.where
    detail: str  # a regex over the finding's detail and what its location says besides where (as JSON)
    reason: str


DEPLOYMENT_POLICY: Final = r"^AWS::IAM::Policy DashboardDeploymentRoleDefaultPolicy"
BUCKETS_WITH_TLS_MINIMUM: Final = r"^AWS::S3::BucketPolicy (DashboardPage|ArchiveBucket)Policy"
SUPPRESSIONS: Final = (
    Suppression(
        "RESOURCE_MISMATCH",
        r"^AWS::IAM::Policy Functions(projector|publisher)RoleDefaultPolicy",
        r'^\{"detail": \[(\{"action": "dynamodb:(DescribeStream|GetRecords|GetShardIterator)", '
        r'"required_format": "arn:\*:dynamodb:\*:\*:table/\*/stream/\*"\}(, )?)+\]\}$',
        "A false positive: a DynamoDB stream's ARN ends with its label, a timestamp such as "
        "2024-01-01T00:00:00.000 whose colons parliament takes for ARN separators, so the stream ARN looks to it "
        "like no table/*/stream/* ARN (the same ARN without colons in its label passes).",
    ),
    Suppression(
        "MALFORMED",
        r"\.AssumeRolePolicyDocument$",
        r'^\{"detail": "Statement contains neither Resource nor NotResource"\}$',
        "A false positive: a role's trust policy names no Resource (the role is the resource), and parliament "
        "lints every document as a permissions policy.",
    ),
    Suppression(
        "RESOURCE_STAR",
        r"^AWS::KMS::Key \w+\.KeyPolicy$",
        r"kms:",
        "A key policy's Resource '*' means the key itself. Its one statement is KMS's default key policy (the "
        "account may use the key through IAM policies), which is what lets each role's IAM statements name the key "
        "at all; nothing else is granted in it.",
    ),
    Suppression(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        r"^AWS::KMS::Key \w+\.KeyPolicy$",
        r"kms:",
        "The same default key policy, granted to the account (its root principal) only: without it no IAM policy "
        "could manage or use the key, and the key could not even be deleted.",
    ),
    Suppression(
        "MISMATCHED_TYPE",
        BUCKETS_WITH_TLS_MINIMUM,
        r"s3:TlsVersion requires a value of type Numeric but given \[.1\.2.\]",
        "A false positive: aws-cdk-lib's minimumTLSVersion denies s3:TlsVersion < 1.2, a decimal number, and "
        "parliament's Numeric type only accepts integers (given the JSON number it raises instead, so the number is "
        "passed as the string IAM compares it as).",
    ),
    Suppression(
        "UNKNOWN_CONDITION_FOR_ACTION",
        BUCKETS_WITH_TLS_MINIMUM,
        r"Unknown condition s3:TlsVersion for action s3:",
        "The TLS deny is on s3:*, as aws-cdk-lib and AWS's own examples write it; for the few s3 actions whose "
        "requests carry no s3:TlsVersion the condition never holds and the Deny does not apply, which is harmless.",
    ),
    Suppression(
        "RESOURCE_STAR",
        DEPLOYMENT_POLICY,
        r'^\{"detail": \["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"\]\}$',
        "aws-cdk-lib's BucketDeployment grants its role the invalidation of the page's distribution on '*' itself "
        "(acknowledged to cdk-nag in infra/dashboard.py); the role belongs to that one deployment function.",
    ),
    Suppression(
        "RESOURCE_MISMATCH",
        DEPLOYMENT_POLICY,
        r"s3:List(AllMyBuckets|Jobs)",
        "aws-cdk-lib's grantRead/grantReadWrite for BucketDeployment use action wildcards (s3:GetObject*, s3:List*"
        "...) on a bucket and its objects; parliament lists every action the wildcards expand to that takes another "
        "kind of resource (access points, access grants, '*'): those are simply not granted by these statements.",
    ),
)


def _documents(synthesized: Synthesized) -> list[PolicyDocument]:
    return list(policy_documents(synthesized, Resolver(synthesized.resources)))


def _numbers_as_strings(value: Any) -> Any:
    """IAM compares condition values as strings; parliament raises on a JSON number (s3:TlsVersion's 1.2)."""
    if isinstance(value, dict):
        return {key: _numbers_as_strings(element) for key, element in value.items()}
    if isinstance(value, list):
        return [_numbers_as_strings(element) for element in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


@dataclass(frozen=True)
class Finding:
    where: str
    issue: str
    detail: str


def _findings(documents: list[PolicyDocument]) -> Iterator[Finding]:
    for document in documents:
        text = json.dumps(_numbers_as_strings(document.document))
        policy = analyze_policy_string(text, include_community_auditors=True)
        for finding in policy.findings:
            located = {k: v for k, v in finding.location.items() if k not in ("line", "column", "filepath")}
            detail = json.dumps({"detail": finding.detail, **located}, sort_keys=True)
            yield Finding(document.where, finding.issue, detail)


def _suppression(finding: Finding) -> Suppression | None:
    for suppression in SUPPRESSIONS:
        if (
            suppression.issue == finding.issue
            and re.search(suppression.where, finding.where)
            and re.search(suppression.detail, finding.detail)
        ):
            return suppression
    return None


@pytest.fixture(scope="module")
def documents(synthesized: Synthesized) -> list[PolicyDocument]:
    return _documents(synthesized)


@pytest.fixture(scope="module")
def findings(documents: list[PolicyDocument]) -> list[Finding]:
    return list(_findings(documents))


def test_every_role_and_resource_policy_of_the_stack_is_linted(
    synthesized: Synthesized, documents: list[PolicyDocument]
) -> None:
    # GIVEN the synthesized template WHEN its policies are gathered THEN none is missed: every role's trust and
    # permissions policies (the functions', the page deployment's, the archive deliveries'), the four keys', the
    # topic's, the queues', the buckets' and every Lambda permission
    where = [document.where for document in documents]
    roles = synthesized.of_type("AWS::IAM::Role")
    deliveries = len(TOPOLOGY.published_streams) if TOPOLOGY.archive is not None else 0
    assert len(roles) == len(TOPOLOGY.functions) + 1 + deliveries
    for role_id in roles:
        assert f"AWS::IAM::Role {role_id}.AssumeRolePolicyDocument" in where
        assert synthesized.statements(role_id), f"{role_id} has no permissions policy"
    for kind, count in (
        ("AWS::IAM::Policy", len(synthesized.of_type("AWS::IAM::Policy"))),
        ("AWS::KMS::Key", 4),
        ("AWS::SNS::TopicPolicy", len(TOPOLOGY.topics)),
        ("AWS::SQS::QueuePolicy", sum(len(function.event_sources) for function in TOPOLOGY.functions)),
        ("AWS::S3::BucketPolicy", len(synthesized.of_type("AWS::S3::Bucket"))),
        ("AWS::Lambda::Permission", len(synthesized.of_type("AWS::Lambda::Permission"))),
    ):
        assert sum(w.startswith(kind + " ") for w in where) == count, kind
    assert all(document.kind == "resource" for document in documents if ".AssumeRolePolicyDocument" in document.where)


def test_parliament_finds_nothing_but_the_suppressed_false_positives(findings: list[Finding]) -> None:
    unexplained = [finding for finding in findings if _suppression(finding) is None]
    assert unexplained == []


def test_every_suppression_still_matches_a_finding(findings: list[Finding]) -> None:
    # A suppression that matches nothing is stale: the policy changed, the reason no longer holds
    used = {_suppression(finding) for finding in findings}
    assert [s for s in SUPPRESSIONS if s not in used] == []


def test_the_functions_policies_have_only_the_stream_arn_false_positive(findings: list[Finding]) -> None:
    # GIVEN the functions' own permissions policies (not their trust policies) THEN parliament's one finding is the
    # stream ARN it misreads, on the two readers of the events table's stream
    functions = [
        f for f in findings if f.where.startswith("AWS::IAM::Policy Functions") and "DashboardDeployment" not in f.where
    ]
    assert {(f.where.split()[1].removeprefix("Functions").split("Role")[0], f.issue) for f in functions} == {
        ("projector", "RESOURCE_MISMATCH"),
        ("publisher", "RESOURCE_MISMATCH"),
    }


def test_the_linter_is_live() -> None:
    # GIVEN a wildcard write and an action that does not exist, added to a copy of the commands role's policy
    # THEN parliament reports both: the suppressions above do not hide everything
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:PutItems", "Resource": "*"},
        ],
    }
    issues = {f.issue for f in _findings([PolicyDocument("AWS::IAM::Policy Test", "identity", document)])}
    assert {"RESOURCE_STAR", "UNKNOWN_ACTION"} <= issues
    assert all(_suppression(Finding("AWS::IAM::Policy Test", issue, "")) is None for issue in issues)
