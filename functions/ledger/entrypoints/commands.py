"""The command function: POST routes that append events (open, deposit, withdraw, close)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.account_service import CommandOutcome
from ledger.domain.accounts import CloseAccount, Command, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.money import DEFAULT_CURRENCY
from ledger.entrypoints.http import schemas
from ledger.entrypoints.http.errors import register_error_handlers
from ledger.entrypoints.http.requests import account_id, command_context
from ledger.entrypoints.http.resolve import resolve
from ledger.entrypoints.http.responses import command_response
from ledger.entrypoints.http.validation import read_json_body

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)


@app.post("/accounts")
@tracer.capture_method
def open_account() -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.OPEN_ACCOUNT)
    command = OpenAccount(
        account_id=body.get("account_id") or bootstrap.account_service().new_id(),
        owner=body["owner"],
        currency=body.get("currency", DEFAULT_CURRENCY),
        initial_balance=body.get("initial_balance", 0),
    )
    return command_response(_execute(command, body))


@app.post("/accounts/<account_id>/deposits")
@tracer.capture_method
def deposit(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = DepositMoney(_account_id(account_id), body["amount"], body.get("description"))
    return command_response(_execute(command, body))


@app.post("/accounts/<account_id>/withdrawals")
@tracer.capture_method
def withdraw(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = WithdrawMoney(_account_id(account_id), body["amount"], body.get("description"))
    return command_response(_execute(command, body))


@app.post("/accounts/<account_id>/close")
@tracer.capture_method
def close(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.CLOSE_ACCOUNT, optional=True)
    return command_response(_execute(CloseAccount(_account_id(account_id)), body))


def _account_id(raw: str) -> str:
    account = account_id(raw)
    logger.append_keys(account_id=account)
    tracer.put_annotation("account_id", account)
    return account


def _execute(command: Command, body: dict[str, Any]) -> CommandOutcome:
    context = command_context(app.current_event.raw_event, body)
    outcome = bootstrap.account_service().execute(command, context)
    logger.info(
        "command executed",
        extra={
            "command": type(command).__name__,
            "account_id": outcome.account.account_id,
            "version": outcome.account.version,
            "replayed": outcome.replayed,
        },
    )
    return outcome


@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, logger, event, context)
