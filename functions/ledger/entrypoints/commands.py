"""The command function: POST routes that append events (open, deposit, withdraw, close)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.domain.accounts import Account, CloseAccount, Command, DepositMoney, OpenAccount, WithdrawMoney
from ledger.domain.money import DEFAULT_CURRENCY
from ledger.entrypoints.http import schemas
from ledger.entrypoints.http.errors import register_error_handlers
from ledger.entrypoints.http.requests import command_context, correlation_id, path_id
from ledger.entrypoints.http.resolve import resolve
from ledger.entrypoints.http.responses import account_body, command_response
from ledger.entrypoints.http.validation import read_json_body
from ledger.kernel.service import CommandOutcome

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)
ACCOUNTS = bootstrap.command_service(ACCOUNT)
bootstrap.start(ACCOUNTS)


@app.post("/accounts")
@tracer.capture_method
def open_account() -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.OPEN_ACCOUNT)
    command = OpenAccount(
        account_id=body.get("account_id") or bootstrap.get(ACCOUNTS).new_id(),
        owner=body["owner"],
        currency=body.get("currency", DEFAULT_CURRENCY),
        initial_balance=body.get("initial_balance", 0),
    )
    return _respond(_execute(command, body))


@app.post("/accounts/<account_id>/deposits")
@tracer.capture_method
def deposit(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = DepositMoney(path_id(account_id, "account_id", logger, tracer), body["amount"], body.get("description"))
    return _respond(_execute(command, body))


@app.post("/accounts/<account_id>/withdrawals")
@tracer.capture_method
def withdraw(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.MONEY_MOVEMENT)
    command = WithdrawMoney(path_id(account_id, "account_id", logger, tracer), body["amount"], body.get("description"))
    return _respond(_execute(command, body))


@app.post("/accounts/<account_id>/close")
@tracer.capture_method
def close(account_id: str) -> Response[str]:
    body = read_json_body(app.current_event.raw_event, schemas.CLOSE_ACCOUNT, optional=True)
    return _respond(_execute(CloseAccount(path_id(account_id, "account_id", logger, tracer)), body))


def _execute(command: Command, body: dict[str, Any]) -> CommandOutcome[Account]:
    event = app.current_event.raw_event
    context = command_context(event, body, app.context.get("correlation_id") or correlation_id(event))
    outcome = bootstrap.get(ACCOUNTS).execute(command, context)
    logger.info(
        "command executed",
        extra={
            "command": type(command).__name__,
            "account_id": command.account_id,
            "version": outcome.version,
            "idempotent_replay": outcome.idempotent_replay,
        },
    )
    return outcome


def _respond(outcome: CommandOutcome[Account]) -> Response[str]:
    return command_response(outcome, account_body(outcome.state), location=f"/accounts/{outcome.state.account_id}")


@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, logger, event, context)
