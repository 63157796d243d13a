"""The command function: POST routes that append events. The account routes are here; the orders, inventory and
shipments routes are a Router of their own (http/order_commands.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import CloseAccount, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.money import DEFAULT_CURRENCY
from ledger.entrypoints.http import order_commands, schemas
from ledger.entrypoints.http.aggregate_routes import run_command
from ledger.entrypoints.http.error_handlers import register_error_handlers
from ledger.entrypoints.http.requests import path_id
from ledger.entrypoints.http.resolve import resolve
from ledger.entrypoints.http.resources import ACCOUNT_RESOURCE
from ledger.entrypoints.http.validation import read_json_body

logger = Logger()
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)
app.include_router(order_commands.router)
ACCOUNTS = bootstrap.command_service(ACCOUNT)
bootstrap.start(ACCOUNTS, *order_commands.SERVICES)


@app.post("/accounts")
def open_account() -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.OPEN_ACCOUNT)
    command = OpenAccount(
        account_id=body.get("account_id") or bootstrap.get(ACCOUNTS).new_id(),
        owner=body["owner"],
        currency=body.get("currency", DEFAULT_CURRENCY),
        initial_balance=body.get("initial_balance", 0),
    )
    return run_command(app, ACCOUNT_RESOURCE, command, body)


@app.post("/accounts/<account_id>/deposits")
def deposit(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = DepositMoney(_account(account_id), body["amount"], body.get("description"))
    return run_command(app, ACCOUNT_RESOURCE, command, body)


@app.post("/accounts/<account_id>/withdrawals")
def withdraw(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = WithdrawMoney(_account(account_id), body["amount"], body.get("description"))
    return run_command(app, ACCOUNT_RESOURCE, command, body)


@app.post("/accounts/<account_id>/close")
def close(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.EMPTY_BODY, optional=True)
    return run_command(app, ACCOUNT_RESOURCE, CloseAccount(_account(account_id)), body)


def _account(raw: str) -> str:
    return path_id(app.current_event.raw_event, raw, "account_id", logger)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, logger, event, context)
