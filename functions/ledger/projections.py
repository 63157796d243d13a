"""The parts declared on aggregates' declarations: every projection (the read models the projector keeps and
`python -m ledger.rebuild` rebuilds, by name) and the sales analyst, which reads orders. Importing this module loads
the domains of the aggregates they name; `ledger/components.py` loads none, so the functions that need no aggregate
(the alerts read model, notifications) do not pay for them when they start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.application.orders import ORDER
from ledger.application.stock import STOCK
from ledger.components import (
    ACCOUNT_VIEWS,
    ALERT_VIEWS,
    FRAUD_RULES,
    ORDER_FRAUD_RULES,
    ORDER_VIEWS,
    REPORTER,
    SALES_STORE,
    STOCK_VIEWS,
)
from ledger.kernel.components import Component

if TYPE_CHECKING:  # each module loads when its part is first built
    from ledger.application.pipeline.analytics import Analyst, SalesProjection
    from ledger.application.pipeline.fraud_detection import AlertsProjection
    from ledger.application.pipeline.reporting import Reporter, ReportsProjection
    from ledger.application.ports import AlertViews, SalesStore
    from ledger.domain.fraud import FraudRules
    from ledger.domain.order_fraud import OrderFraudRules
    from ledger.domain.orders import Order
    from ledger.kernel.projections import Projection
    from ledger.kernel.reader import Reader


def _analyst(store: SalesStore, orders: Reader[Order]) -> Analyst:
    from ledger.application.pipeline.analytics import Analyst  # noqa: PLC0415

    return Analyst(store, lambda order_id, version: orders.read(order_id, version=version).state)


ANALYST: Final[Component[Analyst]] = Component("analyst", _analyst, SALES_STORE, bootstrap.reader(ORDER))

# --- projections: the read models `python -m ledger.rebuild` can rebuild, by name ---------------------------------


def _alerts_projection(views: AlertViews, rules: FraudRules, order_rules: OrderFraudRules) -> AlertsProjection:
    from ledger.application.pipeline.fraud_detection import AlertsProjection  # noqa: PLC0415

    return AlertsProjection(views, rules, order_rules)


def _sales_projection(store: SalesStore) -> SalesProjection:
    from ledger.application.pipeline.analytics import SalesProjection  # noqa: PLC0415

    return SalesProjection(store)


def _reports_projection(reporter: Reporter) -> ReportsProjection:
    from ledger.application.pipeline.reporting import ReportsProjection  # noqa: PLC0415

    return ReportsProjection(reporter)


ACCOUNTS_PROJECTION: Final = bootstrap.state_projection(ACCOUNT, ACCOUNT_VIEWS)
ALERTS_PROJECTION: Final[Component[AlertsProjection]] = Component(
    "alerts_projection", _alerts_projection, ALERT_VIEWS, FRAUD_RULES, ORDER_FRAUD_RULES
)
REPORTS_PROJECTION: Final[Component[ReportsProjection]] = Component("reports_projection", _reports_projection, REPORTER)
# Every projection, declared once, by the name the topology's tables give it (Table.projection).
PROJECTIONS: Final[Mapping[str, Component[Projection]]] = {
    "accounts": ACCOUNTS_PROJECTION,
    "alerts": ALERTS_PROJECTION,
    "reports": REPORTS_PROJECTION,
    "orders": bootstrap.state_projection(ORDER, ORDER_VIEWS),
    "stock": bootstrap.state_projection(STOCK, STOCK_VIEWS),
    "sales": Component("sales_projection", _sales_projection, SALES_STORE),
}
# Those the projector keeps from the event table's stream, by aggregate type.
STATE_PROJECTIONS: Final = bootstrap.state_projections(PROJECTIONS.values())
