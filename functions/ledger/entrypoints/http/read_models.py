"""The read-model routes of the query function: accounts, alerts and daily reports, fed by the stream consumers
(eventually consistent: each account carries the version it reflects)."""

from __future__ import annotations

import base64
import datetime as dt
import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.application.alert_messages import alert_body
from ledger.application.ports import feed_position
from ledger.components import ACCOUNT_VIEWS, ALERT_VIEWS, REPORT_STORE
from ledger.domain.reports import ALL_ACCOUNTS, DailyTotals, ReportKey
from ledger.entrypoints.http import schemas
from ledger.entrypoints.http.errors import FieldError, RequestValidationError
from ledger.entrypoints.http.requests import path_parameter, valid_id
from ledger.entrypoints.http.resources import account_body
from ledger.entrypoints.http.responses import json_response, page_response
from ledger.entrypoints.http.validation import read_query, validate

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
ACCOUNTS = bootstrap.reader(ACCOUNT)
READ_MODELS = (ACCOUNT_VIEWS, ALERT_VIEWS, REPORT_STORE)


@router.get("/accounts")
def list_accounts() -> Response[str]:
    query = read_query(router.current_event.raw_event, schemas.ACCOUNTS_QUERY)
    views = bootstrap.get(ACCOUNT_VIEWS)
    return page_response(
        "accounts", account_body, lambda: views.page(limit=query.get("limit", 50), cursor=query.get("cursor"))
    )


@router.get("/alerts")
def list_alerts() -> Response[str]:
    query = read_query(router.current_event.raw_event, schemas.ALERTS_QUERY)
    if "account_id" in query and "order_id" in query:
        raise RequestValidationError([FieldError("order_id", "give either account_id or order_id, not both")])
    limit = query.get("limit", 20)
    alerts = bootstrap.get(ALERT_VIEWS).newest(  # one more than the page: is there a next one?
        account_id=query.get("account_id"),
        order_id=query.get("order_id"),
        limit=limit + 1,
        before=_alerts_position(query["cursor"]) if "cursor" in query else None,
    )
    page = alerts[:limit]
    next_cursor = _alerts_cursor(feed_position(page[-1])) if len(alerts) > limit else None
    return json_response({"alerts": [alert_body(alert) for alert in page], "next_cursor": next_cursor})


@router.get("/reports/daily/<date>")
def daily_report(date: str) -> Response[str]:
    read_query(router.current_event.raw_event, schemas.NO_QUERY)
    return _report(ReportKey(_date(date), ALL_ACCOUNTS))


@router.get("/accounts/<account_id>/reports/daily/<date>")
def account_daily_report(account_id: str, date: str) -> Response[str]:
    event = router.current_event.raw_event
    read_query(event, schemas.NO_QUERY)
    key = ReportKey(_date(date), valid_id(path_parameter(event, account_id, "account_id"), "account_id"))
    totals = bootstrap.get(REPORT_STORE).totals(key)
    if totals == DailyTotals() and not bootstrap.get(ACCOUNTS).exists(key.account_id):
        raise ACCOUNT.not_found_error(key.account_id)
    return _report(key, totals)


def _alerts_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": position}).encode()).decode().rstrip("=")


def _alerts_position(cursor: str) -> str:
    """The feed position a cursor of `_alerts_cursor` holds; a validation error naming `cursor` for anything else."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["before"]
        position.encode("utf-8")  # no lone surrogate: DynamoDB could not take it
    except (ValueError, KeyError, TypeError, AttributeError):
        position = None
    if not isinstance(position, str) or not position:
        raise RequestValidationError([FieldError("cursor", "not a cursor this API gave out")])
    return position


def _report(key: ReportKey, totals: DailyTotals | None = None) -> Response[str]:
    totals = totals if totals is not None else bootstrap.get(REPORT_STORE).totals(key)
    return json_response(
        {
            "date": key.day.isoformat(),
            "account_id": None if key.account_id == ALL_ACCOUNTS else key.account_id,
            "deposits": {"count": totals.deposits_count, "total": totals.deposits_total},
            "withdrawals": {"count": totals.withdrawals_count, "total": totals.withdrawals_total},
            "net": totals.net,
            "accounts_opened": totals.accounts_opened,
        }
    )


def _date(raw: str) -> dt.date:
    """The path's date: its pattern (schemas.REPORT_DATE) admits real calendar dates only."""
    value = path_parameter(router.current_event.raw_event, raw, "date")
    errors = validate(value, schemas.REPORT_DATE, where="date")
    if errors:
        raise RequestValidationError(errors)
    return dt.date.fromisoformat(value)
