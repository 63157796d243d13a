"""Least privilege by use: a local runtime of its own records every AWS call each function makes (local/aws_calls.py:
each function signs with its own access key) while a workload goes through every function (tests/e2e/workload.py);
then each call is checked against that function's synthesized IAM policy, and each grant of the policy must have
been used by some call, or be one of the exceptions listed here with the reason it cannot be used locally.

- The policies are the CDK app's, synthesized here, with every resource resolved to the local runtime's names
  (tests/infra/policies.py): `ledger-events`, the on-failure queues' `ledger-<function>-<source>-dlq`, the events
  table's actual stream ARN.
- What Lambda's pollers do with a function's role (reading a stream, sending a failure record) the runtime does with
  its own key for every mapping: a runtime call reading a source, or sending to a mapping's on-failure queue, counts
  for each function that maps that source (or owns that queue), and must be allowed for each of them.
- The runtime's other calls (creating tables, streams and queues, the journal, the rebuild) are what CloudFormation,
  the Lambda service and the operator do in AWS, under their own identities: not checked here.
- Conditions are out of scope: the evaluation matches Action and Resource (wildcards included) and honours Deny, but
  leaves Condition out. The only conditions on the functions' statements are the KMS statements' kms:ViaService,
  which no local call can exercise (see NOT_USED_LOCALLY).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts node

from infra.access import DYNAMODB_LIST_STREAMS, DYNAMODB_STREAM_READ, FAILURE_DESTINATION_ACTIONS, KINESIS_STREAM_READ
from infra.topology import EVENTS, TOPOLOGY
from local.aws_calls import CALLS_FILE_VARIABLE, Call, read_calls
from tests.e2e.local_runtime import LocalRuntime
from tests.e2e.pipeline import eventually
from tests.e2e.support import local_only
from tests.e2e.workload import drive_every_function
from tests.infra.policies import (
    Resolver,
    Statement,
    action_matches,
    allows,
    grants,
    local_names,
    resource_matches,
    role_statements,
)
from tests.infra.template import Synthesized, synthesize

pytestmark = local_only

CALLS_FILE: Final = "aws-calls.jsonl"  # in the runtime's data directory
# Every batch delivered twice, as Lambda may: the consumers' answers to a redelivered event (the idempotency records
# read back, the exactly-once markers refused) are paths of their own, with calls of their own.
REDELIVER_EVERY_BATCH: Final = ("--chaos-duplicate=1", "--chaos-seed=8")
# The heartbeat's function runs on the schedule only: often enough to fire during the workload, seldom enough that
# the pipeline is quiet between beats (a beat takes about 8 s to reach its last consumer).
HEARTBEAT_EVERY: Final = ("--heartbeat-seconds=20",)

FUNCTIONS: Final = frozenset(function.id for function in TOPOLOGY.functions)
STREAM_READERS: Final = frozenset(f.id for f in TOPOLOGY.functions if any(s.kind == "kinesis" for s in f.event_sources))
TABLE_STREAM_READERS: Final = frozenset(
    f.id for f in TOPOLOGY.functions if any(s.kind == "dynamodb" for s in f.event_sources)
)
MAPPED: Final = STREAM_READERS | TABLE_STREAM_READERS


@dataclass(frozen=True)
class Unused:
    """Grants no local run can use: those of `functions` whose action and resource match these globs."""

    functions: frozenset[str]
    action: str
    resource: str
    reason: str
    # True: a path the workload may take or not depending on timing (a race, a redelivery after the state moved on),
    # so the grant may turn out used; False: no local run uses it, and the list fails if one does (stale)
    by_chance: bool = False


NOT_USED_LOCALLY: Final = (
    Unused(
        FUNCTIONS,
        "kms:*",
        "arn:aws:kms:*",
        "DynamoDB, Kinesis and SNS call KMS with the function's credentials when they encrypt or decrypt its data "
        "with a customer-managed key (hence kms:ViaService); moto calls no KMS and the local tables, streams and "
        "topic have no such key. Only a deployment exercises these (docs/deploy.md).",
    ),
    Unused(
        FUNCTIONS,
        "logs:*",
        "arn:aws:logs:*",
        "Lambda writes the function's log group with its role; locally the worker's output is the log.",
    ),
    Unused(
        FUNCTIONS,
        "xray:*",
        "*",
        "Lambda sends the trace segments of active tracing with the function's role; no local process traces "
        "(docs/tracing.md).",
    ),
    Unused(
        STREAM_READERS,
        "kinesis:DescribeStream*",
        "arn:aws:kinesis:*",
        "Lambda's poller may describe the stream (DescribeStream, DescribeStreamSummary) to follow its shards; the "
        "local poller finds them with ListShards once (local/pipeline.py).",
    ),
    Unused(
        TABLE_STREAM_READERS,
        "dynamodb:Get*",
        "arn:aws:dynamodb:*:table/ledger-events/stream/*",
        "Lambda's poller reads the table's stream with GetShardIterator and GetRecords; the local poller reads "
        "moto's stream in process, under moto's request lock (local/moto_server.py says why not through the "
        "Streams API).",
    ),
    Unused(
        TABLE_STREAM_READERS,
        "dynamodb:ListStreams",
        "*",
        "Lambda's poller lists the table's streams; the local runtime takes the stream's ARN from DescribeTable.",
    ),
    Unused(
        MAPPED,
        "sqs:SendMessage",
        "arn:aws:sqs:*",
        "Lambda sends a failure record only when a mapping gives up on a batch (retries exhausted or records too "
        "old): a failure path, which tests/e2e/test_pipeline_chaos.py drives; a workload that succeeds never does.",
    ),
    Unused(
        frozenset({"inventory", "order-fraud"}),
        "dynamodb:GetItem",
        "arn:aws:dynamodb:*:table/ledger-idempotency",
        "A consumer that answers events with commands reads a command's idempotency record back only when the "
        "command, sent again for a redelivered event, is refused or would append again (the state moved on since its "
        "first delivery), or when its append finds the record already written. Inventory's and order fraud's "
        "commands, redelivered here with every batch, decide to nothing on the state their first delivery left; "
        "shipping's are refused and do read the record (so the path itself is exercised).",
        by_chance=True,
    ),
    Unused(
        frozenset({"projector"}),
        "dynamodb:Query",
        "arn:aws:dynamodb:*:table/ledger-events",
        "The projector reads an aggregate's history only for an event whose state it cannot decode (no state, or "
        "a state schema this code does not know: during a deployment of a new schema); every event written by this "
        "code carries a state it can read.",
    ),
)


@dataclass
class ByUse:
    calls: list[Call]  # everything the runtime recorded
    policies: dict[str, list[Statement]]  # function id -> its role's statements, resolved to the local names
    sources: dict[str, set[str]] = field(default_factory=dict)  # source ARN -> the functions mapping it
    queues: dict[str, str] = field(default_factory=dict)  # on-failure queue ARN -> its mapping's function

    def attributed(self) -> dict[str, set[Call]]:
        """The calls made with each function's role: its own, and its pollers' (made by the runtime)."""
        made: dict[str, set[Call]] = {function: set() for function in FUNCTIONS}
        for call in self.calls:
            if call.function_id is not None:
                made.setdefault(call.function_id, set()).add(call)
                continue
            for function in self.pollers_of(call):
                made[function].add(call)
        return made

    def pollers_of(self, call: Call) -> set[str]:
        if call.action in FAILURE_DESTINATION_ACTIONS and call.resource in self.queues:
            return {self.queues[call.resource]}
        if call.action in DYNAMODB_LIST_STREAMS:
            return set(TABLE_STREAM_READERS)
        if call.action in (*DYNAMODB_STREAM_READ, *KINESIS_STREAM_READ):
            return self.sources.get(call.resource, set())
        return set()


@pytest.fixture(scope="module")
def by_use(tmp_path_factory: pytest.TempPathFactory) -> ByUse:
    data_dir: Path = tmp_path_factory.mktemp("least-privilege") / "data"
    calls_file = data_dir / CALLS_FILE
    runtime = LocalRuntime(
        data_dir,
        reset=True,
        env={CALLS_FILE_VARIABLE: str(calls_file)},
        args=(*REDELIVER_EVERY_BATCH, *HEARTBEAT_EVERY),
    )
    with runtime:
        drive_every_function(runtime)
        eventually(lambda: _every_mapping_heard_a_beat(runtime), timeout=120, interval=0.5)
        table = runtime.aws("dynamodb").describe_table(TableName=EVENTS.local_name)["Table"]
    synthesized = synthesize(tmp_path_factory.mktemp("cdk.out"))
    events = synthesized.table_id(EVENTS)
    resolve = Resolver(
        synthesized.resources, names=local_names(synthesized), stream_arns={events: table["LatestStreamArn"]}
    )
    return _by_use(synthesized, resolve, read_calls(calls_file))


def _every_mapping_heard_a_beat(runtime: LocalRuntime) -> bool:
    """The heartbeat function ran and its beat went through every mapping, with whatever calls that made."""
    rows = (runtime.status().get("heartbeat") or {}).get("mappings", [])
    return bool(rows) and all(row["beats"] for row in rows)


def _by_use(synthesized: Synthesized, resolve: Resolver, calls: list[Call]) -> ByUse:
    by_use = ByUse(
        calls, {f.id: role_statements(synthesized, synthesized.role_id(f), resolve) for f in TOPOLOGY.functions}
    )
    for function in TOPOLOGY.functions:
        for source in function.event_sources:
            by_use.sources.setdefault(resolve(synthesized.source_arn(source)), set()).add(function.id)
            queue = resolve({"Fn::GetAtt": [synthesized.failure_queue_id(function, source), "Arn"]})
            by_use.queues[queue] = function.id
    return by_use


def _unused(by_use: ByUse) -> list[tuple[str, str, str, str]]:
    """(function, statement id, action, resource) of every grant no call used."""
    made = by_use.attributed()
    unused = []
    for function, statements in sorted(by_use.policies.items()):
        for statement in statements:
            if statement["Effect"] != "Allow":
                continue
            for action, resource in grants(statement):
                if not any(
                    action_matches(action, c.action) and resource_matches(resource, c.resource) for c in made[function]
                ):
                    unused.append((function, statement.get("Sid", ""), action, resource))
    return unused


def _exception(function: str, action: str, resource: str) -> Unused | None:
    for unused in NOT_USED_LOCALLY:
        if (
            function in unused.functions
            and action_matches(unused.action, action)
            and resource_matches(unused.resource, resource)
        ):
            return unused
    return None


def test_the_workload_went_through_every_function(by_use: ByUse) -> None:
    callers = {call.function_id for call in by_use.calls if call.function_id is not None}
    assert callers == FUNCTIONS
    assert {function for function, sources in by_use.attributed().items() if sources} == FUNCTIONS


def test_every_call_a_function_made_is_allowed_by_its_role(by_use: ByUse) -> None:
    # GIVEN every call made with a function's role (its own, and its pollers') WHEN evaluated against the role's
    # statements THEN each is allowed: the workload needed nothing the stack does not grant
    refused = [
        (function, call.action, call.resource)
        for function, calls in sorted(by_use.attributed().items())
        for call in sorted(calls)
        if not allows(by_use.policies[function], call.action, call.resource)
    ]
    assert refused == []


def test_every_grant_is_used_unless_no_local_run_can_use_it(by_use: ByUse) -> None:
    # GIVEN each (action, resource) each function's role allows THEN some call of that function used it, or it is
    # one of the grants listed in NOT_USED_LOCALLY with the reason
    unexplained = [grant for grant in _unused(by_use) if _exception(grant[0], grant[2], grant[3]) is None]
    assert unexplained == []


def test_every_listed_exception_still_covers_a_grant_left_unused(by_use: ByUse) -> None:
    # An exception that covers nothing unused is stale: the grant went, or the workload now uses it (those that
    # depend on timing must at least still cover a grant)
    covering = {_exception(function, action, resource) for function, _, action, resource in _unused(by_use)}
    granted = {
        _exception(function, action, resource)
        for function, statements in by_use.policies.items()
        for statement in statements
        for action, resource in grants(statement)
    }
    stale = [u for u in NOT_USED_LOCALLY if u not in (granted if u.by_chance else covering)]
    assert [(sorted(u.functions), u.action, u.resource) for u in stale] == []


def test_no_runtime_poller_call_escapes_attribution(by_use: ByUse) -> None:
    # GIVEN the runtime's own calls of a poller's actions THEN each is on a mapped source or on-failure queue, so it
    # was checked against the roles of the functions that map it
    pollers = (*DYNAMODB_STREAM_READ, *KINESIS_STREAM_READ, *FAILURE_DESTINATION_ACTIONS)
    stray = [
        call
        for call in by_use.calls
        if call.function_id is None and call.action in pollers and not by_use.pollers_of(call)
    ]
    assert stray == []
