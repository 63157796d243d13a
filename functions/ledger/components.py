"""The ledger's parts beyond the kernel's (bootstrap.py): read models and the consumers' use cases, each a component
built on first use from the settings and parts it names. The parts declared on an aggregate's declaration (the
projections, the analyst) are in `ledger/projections.py`: importing this module loads no aggregate's domain, so a
function that needs none (the alerts read model, notifications) does not pay for them when it starts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from ledger import bootstrap
from ledger.kernel.components import Component, Setting, text, whole_number
from ledger.kernel.instants import to_iso_ms

if TYPE_CHECKING:  # each module loads when its part is first built
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient

    from ledger.application.pipeline.fraud_detection import FraudDetector
    from ledger.application.pipeline.notifying import AlertNotifier
    from ledger.application.pipeline.order_fraud import OrderFraudDetector
    from ledger.application.pipeline.reporting import Reporter
    from ledger.application.ports import (
        AlertViews,
        NotificationLog,
        Notifier,
        ReportStore,
        SalesStore,
    )
    from ledger.domain.accounts import Account
    from ledger.domain.fraud import FraudRules
    from ledger.domain.order_fraud import OrderFraudRules
    from ledger.domain.orders import Order
    from ledger.domain.stock import Stock
    from ledger.kernel.aggregate import Registry
    from ledger.kernel.ports import EventStore, FeedViews, StateViews

# --- settings --------------------------------------------------------------------------------------------------

ACCOUNTS_TABLE = Setting("ACCOUNTS_TABLE_NAME", text)
ORDERS_TABLE = Setting("ORDERS_TABLE_NAME", text)
STOCK_TABLE = Setting("STOCK_TABLE_NAME", text)
SALES_TABLE = Setting("SALES_TABLE_NAME", text)
ALERTS_TABLE = Setting("ALERTS_TABLE_NAME", text)
REPORTS_TABLE = Setting("REPORTS_TABLE_NAME", text)
NOTIFICATIONS_TABLE = Setting("NOTIFICATIONS_TABLE_NAME", text)
ALERTS_STREAM = Setting("ALERTS_STREAM_NAME", text)
NOTIFICATION_TOPIC = Setting("NOTIFICATION_TOPIC_ARN", text)


def _order_fraud_rules(*thresholds: int) -> OrderFraudRules:
    from ledger.domain.order_fraud import OrderFraudRules  # noqa: PLC0415 - each domain loads when first used

    return OrderFraudRules(*thresholds)


def _fraud_rules(*thresholds: int) -> FraudRules:
    from ledger.domain.fraud import FraudRules  # noqa: PLC0415

    return FraudRules(*thresholds)


ORDER_FRAUD_RULES: Final[Component[OrderFraudRules]] = Component(
    "order_fraud_rules",
    _order_fraud_rules,
    Setting("ORDER_FRAUD_LARGE_AMOUNT", whole_number(1)),
    Setting("ORDER_FRAUD_VELOCITY_COUNT", whole_number(1)),
    Setting("ORDER_FRAUD_VELOCITY_WINDOW_SECONDS", whole_number(1)),
    Setting("ORDER_FRAUD_LATE_PAYMENT_SECONDS", whole_number(1)),
)
FRAUD_RULES: Final[Component[FraudRules]] = Component(
    "fraud_rules",
    _fraud_rules,
    Setting("FRAUD_LARGE_AMOUNT", whole_number(1)),
    Setting("FRAUD_VELOCITY_COUNT", whole_number(1)),
    Setting("FRAUD_VELOCITY_WINDOW_SECONDS", whole_number(1)),
)

# --- read models and the notification log ----------------------------------------------------------------------


def _account_views(client: DynamoDBClient, table: str) -> StateViews[Account]:
    from ledger.adapters.dynamodb_state_views import DynamoDBStateViews  # noqa: PLC0415
    from ledger.application.accounts import ACCOUNT  # noqa: PLC0415

    return DynamoDBStateViews(client, table, key="account_id", codec=ACCOUNT.state)


def _order_views(client: DynamoDBClient, table: str) -> FeedViews[Order]:
    from ledger.adapters.dynamodb_state_views import DynamoDBStateViews  # noqa: PLC0415
    from ledger.application.orders import ORDER  # noqa: PLC0415

    return DynamoDBStateViews(client, table, key="order_id", codec=ORDER.state, feed_instant=_placed_at)


def _placed_at(order: Order) -> str:
    return order.placed_at


def _stock_views(client: DynamoDBClient, table: str) -> StateViews[Stock]:
    from ledger.adapters.dynamodb_state_views import DynamoDBStateViews  # noqa: PLC0415
    from ledger.application.stock import STOCK  # noqa: PLC0415

    return DynamoDBStateViews(client, table, key="sku", codec=STOCK.state)


def _alert_views(client: DynamoDBClient, table: str) -> AlertViews:
    from ledger.adapters.dynamodb_read_models import DynamoDBAlertViews  # noqa: PLC0415

    return DynamoDBAlertViews(client, table)


def _report_store(client: DynamoDBClient, table: str) -> ReportStore:
    from ledger.adapters.dynamodb_read_models import DynamoDBReportStore  # noqa: PLC0415

    return DynamoDBReportStore(client, table)


def _sales_store(client: DynamoDBClient, table: str) -> SalesStore:
    from ledger.adapters.dynamodb_sales import DynamoDBSalesStore  # noqa: PLC0415

    return DynamoDBSalesStore(client, table)


def _notification_log(client: DynamoDBClient, table: str) -> NotificationLog:
    from ledger.adapters.dynamodb_read_models import DynamoDBNotificationLog  # noqa: PLC0415

    return DynamoDBNotificationLog(client, table)


def _notifier(client: SNSClient, topic_arn: str) -> Notifier:
    from ledger.adapters.sns_notifier import SnsNotifier  # noqa: PLC0415

    return SnsNotifier(client, topic_arn)


ACCOUNT_VIEWS: Final[Component[StateViews[Account]]] = Component(
    "account_views", _account_views, bootstrap.DYNAMODB, ACCOUNTS_TABLE
)
ORDER_VIEWS: Final[Component[FeedViews[Order]]] = Component(
    "order_views", _order_views, bootstrap.DYNAMODB, ORDERS_TABLE
)
STOCK_VIEWS: Final[Component[StateViews[Stock]]] = Component(
    "stock_views", _stock_views, bootstrap.DYNAMODB, STOCK_TABLE
)
ALERT_VIEWS: Final[Component[AlertViews]] = Component("alert_views", _alert_views, bootstrap.DYNAMODB, ALERTS_TABLE)
REPORT_STORE: Final[Component[ReportStore]] = Component(
    "report_store", _report_store, bootstrap.DYNAMODB, REPORTS_TABLE
)
NOTIFICATION_LOG: Final[Component[NotificationLog]] = Component(
    "notification_log", _notification_log, bootstrap.DYNAMODB, NOTIFICATIONS_TABLE
)
NOTIFIER: Final[Component[Notifier]] = Component("notifier", _notifier, bootstrap.SNS, NOTIFICATION_TOPIC)
SALES_STORE: Final[Component[SalesStore]] = Component("sales_store", _sales_store, bootstrap.DYNAMODB, SALES_TABLE)

# --- the consumers' use cases ----------------------------------------------------------------------------------


def _fraud_detector(store: EventStore, registry: Registry, rules: FraudRules) -> FraudDetector:
    from ledger.application.pipeline.fraud_detection import FraudDetector  # noqa: PLC0415

    return FraudDetector(store, registry, rules)


def _order_fraud_detector(store: EventStore, registry: Registry, rules: OrderFraudRules) -> OrderFraudDetector:
    from ledger.application.pipeline.order_fraud import OrderFraudDetector  # noqa: PLC0415

    return OrderFraudDetector(store, registry, rules)


def _reporter(store: ReportStore) -> Reporter:
    from ledger.application.pipeline.reporting import Reporter  # noqa: PLC0415

    return Reporter(store)


def _alert_notifier(log: NotificationLog, notifier: Notifier) -> AlertNotifier:
    from ledger.application.pipeline.notifying import AlertNotifier  # noqa: PLC0415

    return AlertNotifier(log, notifier, now=lambda: to_iso_ms(datetime.now(UTC)))


FRAUD_DETECTOR: Final[Component[FraudDetector]] = Component(
    "fraud_detector", _fraud_detector, bootstrap.EVENT_STORE, bootstrap.REGISTRY, FRAUD_RULES
)
ORDER_FRAUD_DETECTOR: Final[Component[OrderFraudDetector]] = Component(
    "order_fraud_detector",
    _order_fraud_detector,
    bootstrap.EVENT_STORE,
    bootstrap.REGISTRY,
    ORDER_FRAUD_RULES,
)
REPORTER: Final[Component[Reporter]] = Component("reporter", _reporter, REPORT_STORE)
ALERT_NOTIFIER: Final[Component[AlertNotifier]] = Component(
    "alert_notifier", _alert_notifier, NOTIFICATION_LOG, NOTIFIER
)
