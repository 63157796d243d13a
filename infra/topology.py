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
    Archive,
    EventSource,
    Function,
    GlobalIndex,
    Heartbeat,
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
    "Archive",
    "EventSource",
    "Function",
    "GlobalIndex",
    "Heartbeat",
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
        GlobalIndex("by_account", Key("account_id", "S"), Key("raised_key", "S")),  # sparse: account alerts
        GlobalIndex("by_order", Key("order_id", "S"), Key("raised_key", "S")),  # sparse: order alerts
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
ORDERS: Final = Table(
    id="orders",
    env_var="ORDERS_TABLE_NAME",
    description="Read model: one item per order (status, lines with what waits for stock, totals, version)",
    partition_key=Key("order_id", "S"),
    global_indexes=(
        # Newest orders first, one feed partition per UTC day (an order's placement day) so that no partition takes
        # every order's write however busy the shop gets.
        GlobalIndex("newest", Key("feed", "S"), Key("feed_key", "S")),
    ),
    durable_locally=False,
    projection="orders",
)
STOCK_VIEWS: Final = Table(
    id="stock",
    env_var="STOCK_TABLE_NAME",
    description="Read model: one item per sku (on hand, reserved, available, backordered, version)",
    partition_key=Key("sku", "S"),
    durable_locally=False,
    projection="stock",
)
SALES: Final = Table(
    id="sales",
    env_var="SALES_TABLE_NAME",
    description="Read model: sales per currency and UTC minute (orders placed and paid, revenue, items, "
    "cancellations, refunds) and per product, plus the ids of the events already counted",
    partition_key=Key("bucket", "S"),  # <currency>#<day>
    sort_key=Key("slot", "S"),  # m#<HH:MM> | p#<HH:MM>#<sku>
    ttl_attribute="expires_at",  # on the counted-event markers only
    durable_locally=False,
    projection="sales",
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
ORDER_STREAM: Final = KinesisStream(
    id="orders",
    name="orders",
    env_var="ORDERS_STREAM_NAME",
    description="Every order event as its public message, by order; and the customers' ordering activity",
    partition_key="aggregate_id",
    aggregate_types=("Order", "Customer"),
)
FULFILMENT_STREAM: Final = KinesisStream(
    id="fulfilment",
    name="fulfilment",
    env_var="FULFILMENT_STREAM_NAME",
    description="Every stock and shipment event as its public message, by sku or shipment",
    partition_key="aggregate_id",
    aggregate_types=("Stock", "Shipment"),
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

# A consumer that answers events with commands (kernel/reactions.py) loads and appends like the command function:
# PutItem with attribute_not_exists only, and its commands' idempotency records.
_REACTS: Final = (
    TableAccess("events", ("dynamodb:Query", "dynamodb:PutItem")),
    TableAccess("idempotency", ("dynamodb:GetItem", "dynamodb:PutItem")),
)


def _reacting(stream: str, what: str) -> EventSource:
    return EventSource(
        kind="kinesis",
        source=stream,
        batch_size=100,
        max_batching_window_seconds=1,
        retry_attempts=10,
        max_record_age_seconds=_DAY,
        rationale=f"{what}. Each record costs a load and an append or two, so 100 fit the timeout; a 1 s window "
        "keeps calls down while the shop sees its effect within seconds. A failed record fails the rest of the "
        "batch with it, so an order's events are answered in order on retry (answered ones repeat from their "
        "idempotency records); 10 retries with bisection isolate a poison record.",
    )


# Snapshots live in the event table too (kind = snapshot): stream consumers only ever see events.
ONLY_EVENTS: Final = {"dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}
_DAY: Final = 24 * 3600

TOPOLOGY: Final = Topology(
    tables=(EVENTS, IDEMPOTENCY, ACCOUNTS, ALERTS, REPORTS, ORDERS, STOCK_VIEWS, SALES, NOTIFICATIONS),
    functions=(
        Function(
            id="commands",
            handler="ledger.entrypoints.commands.lambda_handler",
            description="Commands of every aggregate: load, decide, append events (conditional, idempotent)",
            routes=(
                Route("POST", "/accounts"),
                Route("POST", "/accounts/{account_id}/deposits"),
                Route("POST", "/accounts/{account_id}/withdrawals"),
                Route("POST", "/accounts/{account_id}/close"),
                Route("POST", "/orders"),
                Route("POST", "/orders/{order_id}/items"),
                Route("POST", "/orders/{order_id}/payments"),
                Route("POST", "/orders/{order_id}/cancel"),
                Route("POST", "/inventory/{sku}/restocks"),
                Route("POST", "/shipments/{shipment_id}/dispatch"),
                Route("POST", "/shipments/{shipment_id}/deliver"),
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
            description="State (current or temporal) and history of every aggregate, the read models, health, "
            "OpenAPI, unknown routes",
            routes=(
                Route("GET", "/accounts"),
                Route("GET", "/accounts/{account_id}"),
                Route("GET", "/accounts/{account_id}/events"),
                Route("GET", "/accounts/{account_id}/reports/daily/{date}"),
                Route("GET", "/alerts"),
                Route("GET", "/reports/daily/{date}"),
                Route("GET", "/orders"),
                Route("GET", "/orders/{order_id}"),
                Route("GET", "/orders/{order_id}/events"),
                Route("GET", "/orders/{order_id}/shipment"),
                Route("GET", "/inventory"),
                Route("GET", "/inventory/{sku}"),
                Route("GET", "/analytics/sales"),
                Route("GET", "/dashboard"),
                Route("GET", "/health"),
                Route("GET", "/openapi.json"),
                Route("GET", "/docs"),
            ),
            access=(
                TableAccess("events", ("dynamodb:Query",), indexes=True),
                TableAccess("accounts", ("dynamodb:Scan",)),
                # Alerts and orders are listed through their indexes (newest, by account, by order) only.
                TableAccess("alerts", ("dynamodb:Query",), indexes=True, indexes_only=True),
                TableAccess("reports", ("dynamodb:GetItem",)),
                TableAccess("orders", ("dynamodb:Query",), indexes=True, indexes_only=True),
                TableAccess("stock", ("dynamodb:Scan",)),
                TableAccess("sales", ("dynamodb:Query",)),
            ),
            default_route=True,
        ),
        Function(
            id="projector",
            handler="ledger.entrypoints.projector.lambda_handler",
            description="Keeps the state read models (accounts, orders, stock): the state each event carries, applied "
            "if newer",
            access=(
                TableAccess("accounts", ("dynamodb:PutItem",)),
                TableAccess("orders", ("dynamodb:PutItem",)),
                TableAccess("stock", ("dynamodb:PutItem",)),
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
            description="Puts each stored event, as its public message, on its aggregate type's Kinesis stream",
            access=(
                StreamAccess("transactions", ("kinesis:PutRecords",)),
                StreamAccess("orders", ("kinesis:PutRecords",)),
                StreamAccess("fulfilment", ("kinesis:PutRecords",)),
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
                    rationale="One PutRecords per batch (its limit is 500 records, 5 MB). No batching window: every "
                    "consumer waits on the publisher, and the dashboard must show a paid order within 2 s at p99 "
                    "(a 1 s window made it 2.2 s locally: 0.25 s poll + 1 s window + the orders stream's 1 s poll); "
                    "Lambda reads the table's stream four times a second, so under load a batch still holds what "
                    "arrived in 250 ms, and an invocation more per poll costs little (make bench's cost figure). A "
                    "refused record is a batch item failure: Lambda retries from it, so none is dropped and "
                    "per-account order is kept (the consumers drop the duplicates this causes).",
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
        Function(
            id="inventory",
            handler="ledger.entrypoints.inventory.lambda_handler",
            description="Stock follows orders: reserves order lines (backorders what is short), releases cancelled "
            "orders, ships shipped ones; tells orders which lines wait for stock",
            access=_REACTS,
            event_sources=(
                _reacting("orders", "An item added to an order reserves stock, a cancelled order releases it"),
                _reacting("fulfilment", "Stock events go back to their orders: which lines wait for stock"),
            ),
        ),
        Function(
            id="order-fraud",
            handler="ledger.entrypoints.order_fraud.lambda_handler",
            description="Order fraud rules on event time (large order, order velocity, payment anomaly); alerts to "
            "account-alerts",
            access=(
                # Reads an order's payments before the one at hand; appends to customers (the velocity rule).
                *_REACTS,
                StreamAccess("alerts", ("kinesis:PutRecords",)),
            ),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="orders",
                    batch_size=100,
                    max_batching_window_seconds=1,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="Like account fraud: fast but not instant, a 1 s window keeps calls down. A payment "
                    "costs one read of its order's history (once per order per batch), a placement a put and a "
                    "Query of the customer's last minutes. Alert ids are deterministic, so a retried batch raises "
                    "the same alerts, which the alert consumers drop.",
                ),
            ),
        ),
        Function(
            id="analytics",
            handler="ledger.entrypoints.analytics.lambda_handler",
            description="Sales per minute, currency and product from every order event, each counted once",
            access=(
                TableAccess("sales", ("dynamodb:UpdateItem", "dynamodb:PutItem")),
                TableAccess("events", ("dynamodb:Query",)),  # the order right after the payment that completed it
            ),
            event_sources=(
                EventSource(
                    kind="kinesis",
                    source="orders",
                    batch_size=200,
                    max_batching_window_seconds=0,
                    retry_attempts=5,
                    max_record_age_seconds=_DAY,
                    rationale="The dashboard shows a paid order within 2 s: no batching window (Lambda polls each "
                    "shard every second). Up to 200 records go in as few transactions as fit (each event's marker "
                    "and the counters it adds to commit together), so a busy minute costs few writes.",
                ),
            ),
        ),
        Function(
            id="shipping",
            handler="ledger.entrypoints.shipping.lambda_handler",
            description="One shipment per paid order, cancelled with its order before it leaves; tells orders when "
            "their shipment leaves and arrives",
            access=_REACTS,
            event_sources=(
                _reacting("orders", "A payment that completes an order requests its shipment"),
                _reacting("fulfilment", "A dispatched or delivered shipment moves its order on"),
            ),
        ),
        Function(
            id="heartbeat",
            handler="ledger.entrypoints.heartbeat.lambda_handler",
            description="Records the pipeline's heartbeat in the event store each time the schedule fires",
            # Like the command function: a load, then PutItem with attribute_not_exists (a beat is immutable too).
            access=(TableAccess("events", ("dynamodb:Query", "dynamodb:PutItem")),),
        ),
    ),
    streams=(TRANSACTIONS, ORDER_STREAM, FULFILMENT_STREAM, ALERT_STREAM),
    topics=(NOTIFICATION_TOPIC,),
    heartbeat=Heartbeat(
        function="heartbeat",
        aggregate_type="Heartbeat",
        rate_minutes=5,
        missed_beats=3,
        rationale="A mapping that can never poll (its role denied GetRecords or the key's Decrypt) invokes nothing, "
        "so it publishes no IteratorAge and no Errors, and alarms that treat missing data as fine stay quiet. A beat "
        "every 5 minutes through every mapping gives each consumer a record to note however quiet the business is; "
        "3 periods without one (15 minutes, missing data counted as breaching) rides out one late or lost firing "
        "and still calls someone well within the streams' day of retention. A beat costs one event (about 300 a "
        "day) and one record per stream.",
    ),
    archive=Archive(
        bucket_env_var="ARCHIVE_BUCKET_NAME",
        prefix="events/",
        error_prefix="errors/",
        buffer_seconds=60,
        buffer_mib=64,
        local_buffer_seconds=2,
        infrequent_access_days=30,
        glacier_days=90,
        rationale="Firehose's shortest buffering interval worth paying for: an event is in S3 about a minute after "
        "it is on its stream (a replay reads the event table for what is newer), and objects stay few (one per "
        "partition and minute at most, far below S3's request costs). 64 MiB is the least dynamic partitioning takes. "
        "History is read rarely and in bulk: Standard-IA after 30 days, Glacier Instant Retrieval after 90, both "
        "still read directly by Athena and a replay. Locally, 2 s: tests and people see objects right away.",
    ),
    environment={
        "POWERTOOLS_SERVICE_NAME": "ledger",
        "SNAPSHOT_INTERVAL": "100",
        "COMMAND_MAX_ATTEMPTS": "5",
        # A command answers within 7 s (409 at worst): no retry starts that would end later at the pace of its slowest
        # try so far. 3 s short of the functions' 10 s timeout, for a try slower than any before it.
        "COMMAND_RETRY_BUDGET_MS": "7000",
        "IDEMPOTENCY_TTL_SECONDS": "86400",
        "STATE_CACHE_SIZE": "1000",
        "FRAUD_LARGE_AMOUNT": "1000000",
        "FRAUD_VELOCITY_COUNT": "5",
        "FRAUD_VELOCITY_WINDOW_SECONDS": "60",
        "ORDER_FRAUD_LARGE_AMOUNT": "1000000",
        "ORDER_FRAUD_VELOCITY_COUNT": "5",
        "ORDER_FRAUD_VELOCITY_WINDOW_SECONDS": "60",
        "ORDER_FRAUD_LATE_PAYMENT_SECONDS": "86400",
    },
)
