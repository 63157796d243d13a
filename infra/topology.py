"""The one description of the system's topology: tables, streams, topics, functions, routes, event sources, access.

Standard library only. The CDK stack (infra/stack.py) builds AWS resources from it; the local runtime (local/)
builds the same tables and streams on moto, serves the same routes and emulates the same event source mappings with
the same handler functions, so the two cannot drift. Tests check that the routes here are the routes the handlers
register and the OpenAPI document describes. The vocabulary is in infra/model.py.
"""

from __future__ import annotations

from typing import Final

from infra.model import (
    Access,
    EventSource,
    Function,
    GlobalIndex,
    Key,
    KeyType,
    KinesisStream,
    LocalIndex,
    Route,
    StreamAccess,
    StreamView,
    Table,
    TableAccess,
    Topic,
    TopicAccess,
    Topology,
)

__all__ = [
    "TOPOLOGY",
    "Access",
    "EventSource",
    "Function",
    "GlobalIndex",
    "Key",
    "KeyType",
    "KinesisStream",
    "LocalIndex",
    "Route",
    "StreamAccess",
    "StreamView",
    "Table",
    "TableAccess",
    "Topic",
    "TopicAccess",
    "Topology",
]

EVENTS: Final = Table(
    id="events",
    env_var="EVENT_TABLE_NAME",
    description="The event store: one partition per aggregate; events at seq 1, 2, 3..., snapshots at V + 0.5",
    partition_key=Key("aggregate_id", "S"),
    sort_key=Key("seq", "N"),
    local_indexes=(LocalIndex("by_time", Key("at_version", "S")),),
    stream="NEW_IMAGE",
)
IDEMPOTENCY: Final = Table(
    id="idempotency",
    env_var="IDEMPOTENCY_TABLE_NAME",
    description="First outcome of each command sent with an Idempotency-Key, written in the same transaction",
    partition_key=Key("idempotency_key", "S"),
    ttl_attribute="expires_at",
)
ACCOUNTS: Final = Table(
    id="accounts",
    env_var="ACCOUNTS_TABLE_NAME",
    description="Read model: one item per account (owner, currency, balance, status, version, updated_at)",
    partition_key=Key("account_id", "S"),
    durable_locally=False,
    projection="accounts",
)
ALERTS: Final = Table(
    id="alerts",
    env_var="ALERTS_TABLE_NAME",
    description="Read model: fraud alerts, one item per alert id, listed newest first overall or per account",
    partition_key=Key("alert_id", "S"),
    global_indexes=(
        GlobalIndex("by_account", Key("account_id", "S"), Key("raised_key", "S")),
        # Alerts are rare (a few a minute at most), so one feed partition for "newest first" stays far below a
        # partition's limits; shard the feed key by day if that ever changes.
        GlobalIndex("newest", Key("feed", "S"), Key("raised_key", "S")),
    ),
    durable_locally=False,
    projection="alerts",
)
REPORTS: Final = Table(
    id="reports",
    env_var="REPORTS_TABLE_NAME",
    description="Read model: daily totals per account and per day, and the ids of the events already counted",
    partition_key=Key("report_id", "S"),
    ttl_attribute="expires_at",  # on the applied-event markers only
    durable_locally=False,
    projection="reports",
)
NOTIFICATIONS: Final = Table(
    id="notifications",
    env_var="NOTIFICATIONS_TABLE_NAME",
    description="One item per alert notified: what makes a redelivered alert never notify twice",
    partition_key=Key("alert_id", "S"),
)

TRANSACTIONS: Final = KinesisStream(
    id="transactions",
    name="account-transactions",
    env_var="TRANSACTIONS_STREAM_NAME",
    description="Every account event as its public message (docs/schemas/event-message.schema.json), by account",
    partition_key="aggregate_id",
    aggregate_types=("Account",),
)
ALERT_STREAM: Final = KinesisStream(
    id="alerts",
    name="account-alerts",
    env_var="ALERTS_STREAM_NAME",
    description="Fraud alerts (docs/schemas/alert-message.schema.json), keyed by account id",
    partition_key="account_id",
)
NOTIFICATION_TOPIC: Final = Topic(
    id="notifications",
    name="account-notifications",
    env_var="NOTIFICATION_TOPIC_ARN",
    description="One message per fraud alert, for people and systems to subscribe to",
)

# Snapshots live in the event table too (kind = snapshot): stream consumers only ever see events.
ONLY_EVENTS: Final = {"dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}
_DAY: Final = 24 * 3600

TOPOLOGY: Final = Topology(
    tables=(EVENTS, IDEMPOTENCY, ACCOUNTS, ALERTS, REPORTS, NOTIFICATIONS),
    functions=(
        Function(
            id="commands",
            handler="ledger.entrypoints.commands.lambda_handler",
            description="Account commands: load, decide, append events (conditional, idempotent)",
            routes=(
                Route("POST", "/accounts"),
                Route("POST", "/accounts/{account_id}/deposits"),
                Route("POST", "/accounts/{account_id}/withdrawals"),
                Route("POST", "/accounts/{account_id}/close"),
            ),
            access=(
                # PutItem with attribute_not_exists only: no UpdateItem or DeleteItem, events are immutable.
                TableAccess("events", ("dynamodb:Query", "dynamodb:PutItem")),
                TableAccess("idempotency", ("dynamodb:GetItem", "dynamodb:PutItem")),
            ),
        ),
        Function(
            id="queries",
            handler="ledger.entrypoints.queries.lambda_handler",
            description="Account state (current or temporal), event history, health, OpenAPI, unknown routes",
            routes=(
                Route("GET", "/accounts"),
                Route("GET", "/accounts/{account_id}"),
                Route("GET", "/accounts/{account_id}/events"),
                Route("GET", "/accounts/{account_id}/reports/daily/{date}"),
                Route("GET", "/alerts"),
                Route("GET", "/reports/daily/{date}"),
                Route("GET", "/health"),
                Route("GET", "/openapi.json"),
            ),
            access=(
                TableAccess("events", ("dynamodb:Query",), indexes=True),
                TableAccess("accounts", ("dynamodb:Scan",)),
                TableAccess("alerts", ("dynamodb:Query",), indexes=True),
                TableAccess("reports", ("dynamodb:GetItem",)),
            ),
            default_route=True,
        ),
        Function(
            id="projector",
            handler="ledger.entrypoints.projector.lambda_handler",
            description="Keeps the accounts read model: the state each event carries, applied if newer",
            access=(
                TableAccess("accounts", ("dynamodb:PutItem",)),
                TableAccess("events", ("dynamodb:Query",)),  # to fold an event whose state it cannot read
            ),
            event_sources=(
                EventSource(
                    kind="dynamodb",
                    source="events",
                    batch_size=100,
                    max_batching_window_seconds=0,
                    retry_attempts=10,
                    max_record_age_seconds=_DAY,
                    filters=(ONLY_EVENTS,),
                    rationale="Read-model freshness is what users see: no batching window, so a write shows up "
                    "within one poll (about 250 ms). 100 records is one conditional put each, far below the "
                    "timeout. 10 retries with bisection isolate a poison record in a few minutes; a day is the "
                    "stream's retention, so nothing expires unseen.",
                ),
            ),
        ),
        Function(
            id="publisher",
            handler="ledger.entrypoints.publisher.lambda_handler",
            description="Puts each stored event on the account-transactions Kinesis stream as its public message",
            access=(StreamAccess("transactions", ("kinesis:PutRecords",)),),
            event_sources=(
                EventSource(
                    kind="dynamodb",
                    source="events",
                    batch_size=100,
                    max_batching_window_seconds=1,
                    retry_attempts=10,
                    max_record_age_seconds=_DAY,
                    filters=(ONLY_EVENTS,),
                    rationale="One PutRecords per batch (its limit is 500 records, 5 MB): 100 records and a 1 s "
                    "window trade a second of latency for a fifth of the calls under load. A refused record is "
                    "a batch item failure: Lambda retries from it, so none is dropped and per-account order is "
                    "kept (the consumers drop the duplicates this causes).",
                ),
            ),
        ),
        Function(
            id="fraud",
            handler="ledger.entrypoints.fraud.lambda_handler",
            description="Fraud rules on event time (large transaction, high velocity); alerts to account-alerts",
            access=(
                TableAccess("events", ("dynamodb:Query",)),  # the account's transactions before the one at hand
                StreamAccess("alerts", ("kinesis:PutRecords",)),
            ),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="transactions",
                    batch_size=100,
                    max_batching_window_seconds=1,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="Alerts should be fast but not instant: a 1 s window keeps calls down. A record "
                    "costs at most one Query, so 100 fit easily in the timeout. Alert ids are deterministic, "
                    "so a retried batch re-raises the same alerts, which the alert consumers drop.",
                ),
            ),
        ),
        Function(
            id="reporting",
            handler="ledger.entrypoints.reporting.lambda_handler",
            description="Daily transaction reports by UTC date, per account and per day, each event counted once",
            access=(TableAccess("reports", ("dynamodb:UpdateItem", "dynamodb:PutItem")),),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="transactions",
                    batch_size=200,
                    max_batching_window_seconds=5,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="Reports are read by the day, so 5 s of latency costs nothing and larger batches "
                    "mean fewer, fuller transactions (each event's marker and the totals it adds to commit "
                    "together).",
                ),
            ),
        ),
        Function(
            id="notifications",
            handler="ledger.entrypoints.notifications.lambda_handler",
            description="Publishes each alert once to the account-notifications SNS topic",
            access=(
                TableAccess("notifications", ("dynamodb:PutItem", "dynamodb:UpdateItem")),
                TopicAccess("notifications", ("sns:Publish",)),
            ),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="alerts",
                    batch_size=10,
                    max_batching_window_seconds=0,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="A person may act on a notification: no batching window. Small batches bound what "
                    "one slow SNS call delays.",
                ),
            ),
        ),
        Function(
            id="alerts",
            handler="ledger.entrypoints.alerts.lambda_handler",
            description="Keeps the alerts read model behind GET /alerts",
            access=(TableAccess("alerts", ("dynamodb:PutItem",)),),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="alerts",
                    batch_size=100,
                    max_batching_window_seconds=1,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="One conditional put per alert; a 1 s window is invisible to someone reading alerts.",
                ),
            ),
        ),
    ),
    streams=(TRANSACTIONS, ALERT_STREAM),
    topics=(NOTIFICATION_TOPIC,),
    environment={
        "POWERTOOLS_SERVICE_NAME": "ledger",
        "SNAPSHOT_INTERVAL": "100",
        "COMMAND_MAX_ATTEMPTS": "5",
        "IDEMPOTENCY_TTL_SECONDS": "86400",
        "STATE_CACHE_SIZE": "1000",
        "FRAUD_LARGE_AMOUNT": "1000000",
        "FRAUD_VELOCITY_COUNT": "5",
        "FRAUD_VELOCITY_WINDOW_SECONDS": "60",
    },
)
