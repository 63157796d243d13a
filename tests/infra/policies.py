"""Every IAM policy of the synthesized template as plain JSON, and an evaluator of identity-policy statements.

- `policy_documents`: each policy document in the template (a role's trust policy and inline policies, attached
  policies, key policies, topic, queue and bucket policies, and each Lambda permission as the statement Lambda adds to
  the function's resource policy), with every CloudFormation intrinsic resolved to a concrete string by a `Resolver`.
- `Resolver`: a resource's ARN, name or URL from its logical id, as AWS would form them; with `local_names`, the names
  the local runtime gives the same resources (tables `ledger-<id>`, the mappings' on-failure queues), so that the
  resolved statements can be matched against the calls the local runtime recorded.
- `allows` / `allowing`: IAM's evaluation of identity-policy statements for one action on one resource (an explicit
  Deny wins, else an Allow, else the implicit deny), wildcards included; Conditions are not evaluated: the callers say
  which conditions they leave out (the KMS statements' kms:ViaService) and why.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

from infra.topology import TOPOLOGY
from local.environment import LOCAL_ACCOUNT_ID
from local.pipeline import failure_queue_name
from tests.infra.template import Synthesized, as_list

REGION: Final = "us-east-1"  # the local runtime's default region
ACCOUNT: Final = LOCAL_ACCOUNT_ID
# What follows table/<name>/stream/ in a DynamoDB stream ARN: a creation timestamp, colons included.
STREAM_LABEL: Final = "2024-01-01T00:00:00.000"

Statement = dict[str, Any]
Kind = Literal["identity", "resource"]


@dataclass(frozen=True)
class PolicyDocument:
    """One policy of the template, resolved. `where` names it for humans: resource type, logical id, property."""

    where: str
    kind: Kind  # identity: attached to a role (no Principal); resource: trust, key, topic, queue, bucket, function
    document: dict[str, Any]

    @property
    def statements(self) -> list[Statement]:
        return [dict(statement) for statement in as_list(self.document["Statement"])]


def _generated_id(logical_id: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_OID, logical_id).hex


@dataclass(frozen=True)
class _Shape:
    """How a resource type's Ref and attributes read once deployed: formats over {region}, {account}, {name}."""

    name_property: str | None  # the property that names the resource, if the template may set it
    forms: Mapping[str, str]  # "Ref" or an attribute -> its format
    default_name: Callable[[str], str] = str  # the name CloudFormation makes up, from the logical id


_SHAPES: Final[Mapping[str, _Shape]] = {
    "AWS::DynamoDB::Table": _Shape(
        "TableName",
        {
            "Ref": "{name}",
            "Arn": "arn:aws:dynamodb:{region}:{account}:table/{name}",
            "StreamArn": "arn:aws:dynamodb:{region}:{account}:table/{name}/stream/" + STREAM_LABEL,
        },
    ),
    "AWS::Kinesis::Stream": _Shape(
        "Name", {"Ref": "{name}", "Arn": "arn:aws:kinesis:{region}:{account}:stream/{name}"}
    ),
    "AWS::SNS::Topic": _Shape(
        "TopicName",
        {"Ref": "arn:aws:sns:{region}:{account}:{name}", "TopicArn": "arn:aws:sns:{region}:{account}:{name}"},
    ),
    "AWS::SQS::Queue": _Shape(
        "QueueName",
        {"Ref": "https://sqs.{region}.amazonaws.com/{account}/{name}", "Arn": "arn:aws:sqs:{region}:{account}:{name}"},
    ),
    "AWS::KMS::Key": _Shape(
        None,
        {"Ref": "{name}", "KeyId": "{name}", "Arn": "arn:aws:kms:{region}:{account}:key/{name}"},
        lambda logical_id: str(uuid.UUID(_generated_id(logical_id))),
    ),
    "AWS::Logs::LogGroup": _Shape(
        "LogGroupName",
        {"Ref": "{name}", "Arn": "arn:aws:logs:{region}:{account}:log-group:{name}:*"},
        lambda logical_id: f"/aws/lambda/{logical_id}",
    ),
    "AWS::S3::Bucket": _Shape("BucketName", {"Ref": "{name}", "Arn": "arn:aws:s3:::{name}"}, str.lower),
    "AWS::CloudFront::Distribution": _Shape(
        None, {"Ref": "{name}", "Id": "{name}"}, lambda logical_id: "E" + _generated_id(logical_id)[:13].upper()
    ),
    "AWS::IAM::Role": _Shape("RoleName", {"Ref": "{name}", "Arn": "arn:aws:iam::{account}:role/{name}"}),
    "AWS::Lambda::Function": _Shape(
        "FunctionName", {"Ref": "{name}", "Arn": "arn:aws:lambda:{region}:{account}:function:{name}"}
    ),
    "AWS::ApiGatewayV2::Api": _Shape(None, {"Ref": "{name}", "ApiId": "{name}"}, lambda i: _generated_id(i)[:10]),
    "AWS::Events::Rule": _Shape("Name", {"Ref": "{name}", "Arn": "arn:aws:events:{region}:{account}:rule/{name}"}),
}
_PSEUDO: Final = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Ledger",
}


class Resolver:
    """CloudFormation values -> what they are once deployed, in REGION and ACCOUNT.

    `names`: logical id -> the resource's physical name where the template leaves it to CloudFormation (or to
    override it, e.g. with the local runtime's names). `stream_arns`: logical id of a table -> its stream's ARN (by
    default one with a made-up label)."""

    def __init__(
        self,
        resources: Mapping[str, Mapping[str, Any]],
        *,
        names: Mapping[str, str] | None = None,
        stream_arns: Mapping[str, str] | None = None,
    ) -> None:
        self._resources = resources
        self._names = dict(names or {})
        self._stream_arns = dict(stream_arns or {})

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(element) for element in value]
        if not isinstance(value, dict):
            return value
        intrinsic = next(iter(value)) if len(value) == 1 else ""
        if intrinsic == "Ref" or intrinsic.startswith("Fn::"):
            return self._intrinsic(intrinsic, value[intrinsic])
        return {key: self(element) for key, element in value.items()}

    def _intrinsic(self, name: str, argument: Any) -> str:
        if name == "Ref":
            return _PSEUDO.get(argument) or self.attribute(argument, "Ref")
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.attribute(logical_id, attribute)
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(self(part)) for part in parts)
        if name == "Fn::Sub":
            return self._sub(argument)
        raise ValueError(f"intrinsic {name} not resolved here: {argument}")

    def attribute(self, logical_id: str, attribute: str) -> str:
        resource = self._resources[logical_id]
        shape = _SHAPES.get(resource["Type"])
        if shape is None or attribute not in shape.forms:
            raise ValueError(f"no concrete value for {resource['Type']} {logical_id}.{attribute}: add it to _SHAPES")
        if attribute == "StreamArn" and logical_id in self._stream_arns:
            return self._stream_arns[logical_id]
        given = resource.get("Properties", {}).get(shape.name_property) if shape.name_property else None
        name = self._names.get(logical_id) or given or shape.default_name(logical_id)
        return shape.forms[attribute].format(region=REGION, account=ACCOUNT, name=name)

    def _sub(self, argument: Any) -> str:
        template, variables = (argument, {}) if isinstance(argument, str) else argument

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.attribute(logical_id, attribute)
            return self._intrinsic("Ref", name)

        return re.sub(r"\$\{([^}!]+)\}", substitute, template)


def local_names(synthesized: Synthesized) -> dict[str, str]:
    """The names the local runtime gives the template's resources where they differ from the template's: tables
    (`ledger-<id>`) and the mappings' on-failure queues (`ledger-<function>-<source>-dlq`). Kinesis streams and SNS
    topics have the same names in both."""
    names = {synthesized.table_id(table): table.local_name for table in TOPOLOGY.tables}
    for function in TOPOLOGY.functions:
        for source in function.event_sources:
            names[synthesized.failure_queue_id(function, source)] = failure_queue_name(function, source)
    return names


def policy_documents(synthesized: Synthesized, resolve: Resolver) -> Iterator[PolicyDocument]:
    """Every policy document of the template, resolved: any property value of any resource that holds a Statement,
    and each AWS::Lambda::Permission as the statement Lambda adds for it to the function's resource policy."""
    for logical_id, resource in sorted(synthesized.resources.items()):
        resource_type = resource["Type"]
        if resource_type == "AWS::Lambda::Permission":
            yield PolicyDocument(
                f"{resource_type} {logical_id}", "resource", resolve(_lambda_permission(resource["Properties"]))
            )
            continue
        for path, document in _documents_in(resource.get("Properties", {}), ""):
            resolved = resolve(document)
            kind: Kind = "resource" if any(_has_principal(s) for s in as_list(resolved["Statement"])) else "identity"
            yield PolicyDocument(f"{resource_type} {logical_id}{path}", kind, resolved)


def role_statements(synthesized: Synthesized, role_id: str, resolve: Resolver) -> list[Statement]:
    """The identity-policy statements that apply to the role, resolved."""
    return [resolve(statement) for statement in synthesized.statements(role_id)]


def _documents_in(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if "Statement" in value:
            yield path, value
            return
        for key, element in value.items():
            yield from _documents_in(element, f"{path}.{key}")
    elif isinstance(value, list):
        for index, element in enumerate(value):
            yield from _documents_in(element, f"{path}[{index}]")


def _has_principal(statement: Statement) -> bool:
    return "Principal" in statement or "NotPrincipal" in statement


def _lambda_permission(properties: Mapping[str, Any]) -> dict[str, Any]:
    """What lambda:AddPermission puts in the function's resource policy for this permission."""
    statement: Statement = {
        "Sid": "Permission",
        "Effect": "Allow",
        "Principal": {"Service": properties["Principal"]},
        "Action": properties["Action"],
        "Resource": properties["FunctionName"],
    }
    if "SourceArn" in properties:
        statement["Condition"] = {"ArnLike": {"AWS:SourceArn": properties["SourceArn"]}}
    if "SourceAccount" in properties:
        statement.setdefault("Condition", {})["StringEquals"] = {"AWS:SourceAccount": properties["SourceAccount"]}
    return {"Version": "2012-10-17", "Statement": [statement]}


# --- evaluation -----------------------------------------------------------------------------------------------------


@cache
def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` any one character, everything else literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def action_matches(pattern: str, action: str) -> bool:
    return _pattern(pattern, ignore_case=True).match(action) is not None  # action names are case-insensitive


def resource_matches(pattern: str, arn: str) -> bool:
    return _pattern(pattern, ignore_case=False).match(arn) is not None  # ARNs are case-sensitive


def applies(statement: Statement, action: str, resource: str) -> bool:
    """Whether the statement's Action/NotAction and Resource/NotResource cover (action, resource), its Condition
    left out."""
    if "NotAction" in statement:
        action_ok = not any(action_matches(p, action) for p in as_list(statement["NotAction"]))
    else:
        action_ok = any(action_matches(p, action) for p in as_list(statement.get("Action", [])))
    if "NotResource" in statement:
        resource_ok = not any(resource_matches(p, resource) for p in as_list(statement["NotResource"]))
    else:
        resource_ok = any(resource_matches(p, resource) for p in as_list(statement.get("Resource", [])))
    return action_ok and resource_ok


def allowing(statements: list[Statement], action: str, resource: str) -> list[Statement]:
    """The Allow statements that cover the call; [] when none does or a Deny does."""
    if any(s["Effect"] == "Deny" and applies(s, action, resource) for s in statements):
        return []
    return [s for s in statements if s["Effect"] == "Allow" and applies(s, action, resource)]


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    return bool(allowing(statements, action, resource))


def grants(statement: Statement) -> Iterator[tuple[str, str]]:
    """Each (action, resource) an Allow statement names, as written (wildcards kept)."""
    for action in as_list(statement.get("Action", [])):
        for resource in as_list(statement.get("Resource", [])):
            yield action, resource
