"""Who calls what on moto, as IAM would see it: each request's caller, IAM action and resource ARN.

Each function's execution environments sign their requests with an access key of their own (`local-<function id>`:
local/environment.py's `function_access_key`); the runtime itself signs with `local` for what the Lambda service and
the developer do on AWS (tables created, the journal, the event source mappings' pollers, the read models' rebuild).
`CallRecorder` wraps moto's WSGI app and, for each request, reads:
- the caller: the access key of the SigV4 Authorization header (its credential scope also gives region and service);
- the operation: X-Amz-Target for the JSON protocols (DynamoDB, DynamoDB Streams, Kinesis, SQS), the Action
  parameter for the query protocol (SNS);
- the resources, from the request body, as IAM authorizes the operation: `dynamodb:PutItem` on the table's ARN,
  `dynamodb:Query` on the index's ARN when IndexName is given, each item of a TransactWriteItems as the PutItem,
  UpdateItem, DeleteItem or ConditionCheckItem it is (TransactWriteItems is not an IAM action), BatchWriteItem on each
  table it writes, `kinesis:PutRecords` on the stream's ARN (from StreamName, StreamARN or the shard iterator),
  `sns:Publish` on the topic's ARN, `sqs:SendMessage` on the queue's ARN (from its URL). What it cannot tell is
  recorded on '*', which no narrow policy allows: an unknown call shows up rather than passing unseen.

Each distinct (caller, action, resource) is appended once per run to a JSON-lines file, under moto's request lock.
Off unless $LOCAL_AWS_CALLS_FILE names that file (tests/e2e/test_least_privilege.py sets it for its runtime): a
developer's `make run` and the benchmarks pay nothing for it.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlparse

from local.environment import LOCAL_ACCOUNT_ID

CALLS_FILE_VARIABLE: Final = "LOCAL_AWS_CALLS_FILE"
RUNTIME_CALLER: Final = "local"  # the runtime's own access key (local/environment.py's aws_environment)
ANY: Final = "*"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_CREDENTIAL: Final = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_IAM_PREFIXES: Final = {"monitoring": "cloudwatch", "email": "ses"}  # signing name -> IAM prefix, where they differ
_TRANSACT_WRITES: Final = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True, order=True)
class Call:
    caller: str  # the access key: `local-<function id>` or `local`
    action: str  # e.g. dynamodb:PutItem
    resource: str  # e.g. arn:aws:dynamodb:us-east-1:123456789012:table/ledger-events, or '*'

    @property
    def function_id(self) -> str | None:
        """The function whose environment made the call; None for the runtime's own."""
        prefix = RUNTIME_CALLER + "-"
        return self.caller.removeprefix(prefix) if self.caller.startswith(prefix) else None


def calls_of_request(headers: Mapping[str, str], query: str, body: bytes) -> list[Call]:
    """The IAM (action, resource) pairs one request to moto is authorized as, with its caller. `headers` by their
    lowercase names."""
    credential = _CREDENTIAL.search(headers.get("authorization", ""))
    if credential is None:
        return [Call("", "unsigned:request", ANY)]
    caller, region, service = credential.groups()
    prefix = _IAM_PREFIXES.get(service, service)
    target = headers.get("x-amz-target", "")
    if target:
        operation = target.rpartition(".")[2]
        try:
            request: dict[str, Any] = json.loads(body or b"{}")
        except ValueError:
            request = {}
    else:
        form = {key: values[0] for key, values in parse_qs(query).items()}
        form |= {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        operation, request = form.pop("Action", "Unknown"), dict(form)
    resources = _RESOURCES.get(prefix, _nothing_known)(operation, request, region)
    return [Call(caller, f"{prefix}:{action}", resource) for action, resource in resources]


def read_calls(path: Path) -> list[Call]:
    """The calls recorded in `path` (none if it does not exist)."""
    if not path.exists():
        return []
    return [Call(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class CallRecorder:
    """A WSGI app that records each request's calls to `path`, then hands the request to `app` unchanged."""

    def __init__(self, app: WsgiApp, path: Path) -> None:
        self._app = app
        self.path = path
        self._seen: set[Call] = set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _read_body(environ)
        headers = {
            key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key[:5] == "HTTP_"
        }
        calls = dict.fromkeys(calls_of_request(headers, environ.get("QUERY_STRING", ""), body))  # in order, once
        new = [call for call in calls if call not in self._seen]
        if new:
            self._seen.update(new)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps(asdict(call)) + "\n" for call in new)
        return self._app(environ, start_response)


def recording(app: WsgiApp, environment: Mapping[str, str] = os.environ) -> WsgiApp:
    """`app` wrapped in a CallRecorder when $LOCAL_AWS_CALLS_FILE is set, else `app` itself."""
    path = environment.get(CALLS_FILE_VARIABLE)
    return CallRecorder(app, Path(path)) if path else app


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back for the app to read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# --- resources, per service ---------------------------------------------------------------------------------------

Resources = Iterator[tuple[str, str]]  # (operation as an IAM action name, resource ARN)


def _nothing_known(operation: str, request: dict[str, Any], region: str) -> Resources:
    yield operation, ANY


def _dynamodb(operation: str, request: dict[str, Any], region: str) -> Resources:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT_ID}:table/{name}"

    if operation in ("BatchWriteItem", "BatchGetItem"):
        for name in request.get("RequestItems", {}):
            yield operation, table(name)
    elif operation == "TransactWriteItems":
        for item in request.get("TransactItems", []):
            for kind, write in item.items():
                yield _TRANSACT_WRITES.get(kind, kind), table(write["TableName"])
    elif operation == "TransactGetItems":
        for item in request.get("TransactItems", []):
            yield "GetItem", table(item["Get"]["TableName"])
    elif operation in ("DescribeStream", "GetShardIterator") and "StreamArn" in request:  # DynamoDB Streams
        yield operation, request["StreamArn"]
    elif operation == "GetRecords" and "ShardIterator" in request:  # moto's iterator: <stream ARN>|1|<id>
        stream = request["ShardIterator"].partition("|")[0]
        yield operation, stream if stream.startswith("arn:") else ANY
    elif "TableName" in request:
        arn = table(request["TableName"])
        yield operation, f"{arn}/index/{request['IndexName']}" if request.get("IndexName") else arn
    elif "ResourceArn" in request:
        yield operation, request["ResourceArn"]
    else:  # ListTables, ListStreams, DescribeLimits...: no resource
        yield operation, ANY


def _kinesis(operation: str, request: dict[str, Any], region: str) -> Resources:
    name = request.get("StreamName")
    if "StreamARN" in request:
        yield operation, request["StreamARN"]
        return
    if name is None and "ShardIterator" in request:  # moto's iterator: base64 of <stream name>:<shard>:<sequence>
        try:
            name = base64.decodebytes(request["ShardIterator"].encode()).decode().split(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            name = None
    yield operation, f"arn:aws:kinesis:{region}:{LOCAL_ACCOUNT_ID}:stream/{name}" if name else ANY


def _sns(operation: str, request: dict[str, Any], region: str) -> Resources:
    if operation == "CreateTopic":
        yield operation, f"arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{request.get('Name', '')}"
        return
    arn = request.get("TopicArn") or request.get("TargetArn") or request.get("SubscriptionArn")
    yield operation, arn or ANY


def _sqs(operation: str, request: dict[str, Any], region: str) -> Resources:
    if "QueueUrl" in request:  # http(s)://<host>/<account>/<name>
        account, _, name = urlparse(request["QueueUrl"]).path.strip("/").partition("/")
        yield operation, f"arn:aws:sqs:{region}:{account}:{name}"
    elif "QueueName" in request:
        yield operation, f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{request['QueueName']}"
    else:
        yield operation, ANY


_RESOURCES: Final[Mapping[str, Callable[[str, dict[str, Any], str], Resources]]] = {
    "dynamodb": _dynamodb,
    "kinesis": _kinesis,
    "sns": _sns,
    "sqs": _sqs,
}
