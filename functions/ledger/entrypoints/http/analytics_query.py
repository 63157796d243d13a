"""The query of the sales report (GET /analytics/sales) and the body it answers.

The sales read model counts whole UTC minutes, so a range [from, to) counts every minute it touches: from `from`
down to its minute, to `to` up to a whole minute (to = now counts the minute under way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ledger.application.pipeline.analytics import SalesReport
from ledger.domain.sales import SalesFigures
from ledger.entrypoints.http.aggregate_routes import instant
from ledger.entrypoints.http.errors import FieldError, RequestValidationError

BUCKET_SIZES: Final = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}
MAX_BUCKETS: Final = {"minute": 1_440, "hour": 744}  # a day of minutes, a 31-day month of hours
DEFAULT_SPAN: Final = timedelta(hours=1)
DEFAULT_CURRENCY: Final = "USD"
# Instants the report can name (four-digit years, with room for the default span and the rounding).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)
_MINUTE: Final = timedelta(minutes=1)


@dataclass(frozen=True)
class SalesQuery:
    currency: str
    bucket: str  # "minute" or "hour"
    start: datetime  # UTC, a whole minute: the first minute counted
    end: datetime  # UTC, a whole minute: the end of the last minute counted

    @property
    def bucket_count(self) -> int:
        """How many buckets the report lists: each one the range touches."""
        size = BUCKET_SIZES[self.bucket]
        first = self.start.replace(minute=0) if self.bucket == "hour" else self.start
        return -((first - self.end) // size)  # ceil((end - first) / size)


def sales_query(params: Mapping[str, str], now: datetime, errors: Sequence[FieldError] = ()) -> SalesQuery:
    """The checked query: `params` checked against `SALES_QUERY` (validation.py), which found `errors`; defaults to =
    `now`, from = to - 1 hour, bucket minute, currency USD. Each refusal names its parameter, all at once."""
    errors = list(errors)
    wrong = {error.field for error in errors}
    given_from = None if "from" in wrong else _instant(params, "from", errors)
    given_to = None if "to" in wrong else _instant(params, "to", errors)
    if errors:
        raise RequestValidationError(errors)
    to = given_to or now.astimezone(UTC)
    start = given_from or to - DEFAULT_SPAN
    if start >= to:
        raise RequestValidationError([FieldError("from", f"must be before to ({_iso(to)})")])
    query = SalesQuery(
        currency=params.get("currency", DEFAULT_CURRENCY),
        bucket=params.get("bucket", "minute"),
        start=start.replace(second=0, microsecond=0),
        end=_ceil_minute(to),
    )
    limit = MAX_BUCKETS[query.bucket]
    if query.bucket_count > limit:
        raise RequestValidationError(
            [
                FieldError(
                    "from",
                    f"is too long before to: the range holds {query.bucket_count} {query.bucket} buckets, at most "
                    f"{limit}" + (" (bucket=hour takes longer ranges)" if query.bucket == "minute" else ""),
                )
            ]
        )
    return query


def report_body(query: SalesQuery, report: SalesReport) -> dict[str, Any]:
    return {
        "currency": report.currency,
        "bucket": query.bucket,
        "from": _iso(query.start),
        "to": _iso(query.end),
        "buckets": [{"start": f"{bucket.start}:00Z", **_figures(bucket.figures)} for bucket in report.buckets],
        "totals": {**_figures(report.totals), "refunds": report.totals.refunds},
        "top_products": [
            {"sku": product.sku, "quantity": product.quantity, "revenue": product.revenue}
            for product in report.top_products
        ],
    }


def _figures(figures: SalesFigures) -> dict[str, int]:
    return {
        "orders_placed": figures.orders_placed,
        "orders_paid": figures.orders_paid,
        "revenue": figures.revenue,
        "items_sold": figures.items_sold,
        "average_order_value": figures.average_order_value,
        "cancelled": figures.cancelled,
    }


def _instant(params: Mapping[str, str], name: str, errors: list[FieldError]) -> datetime | None:
    """The parameter `name` as a UTC instant; None when it is not given, or wrong (its error added to `errors`)."""
    if name not in params:
        return None
    try:
        moment = instant(params[name], name).astimezone(UTC)
    except RequestValidationError as error:
        errors.extend(error.details or [FieldError(name, error.message)])
        return None
    if not EARLIEST <= moment < LATEST:
        errors.append(FieldError(name, f"must be between {_iso(EARLIEST)} and {_iso(LATEST)}"))
        return None
    return moment


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + _MINUTE


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
