"""Every error a client can see carries its category, and the HTTP layer maps categories, not types: no domain or
kernel error can answer 5xx, and a new error type needs nothing outside its own declaration."""

from __future__ import annotations

import importlib
import json
import pkgutil
from http import HTTPStatus
from typing import Any, cast

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

import ledger
from ledger.domain.errors import CategorizedError, Category, DomainError
from ledger.entrypoints.http.error_handlers import register_error_handlers
from ledger.entrypoints.http.errors import STATUS_OF_CATEGORY
from ledger.kernel.errors import ApplicationError
from local.apigw import LambdaContext, http_api_event
from tests import counter


def every_subclass(cls: type[CategorizedError]) -> list[type[CategorizedError]]:
    found: list[type[CategorizedError]] = []
    pending = [cls]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


@pytest.fixture(scope="module")
def every_error_type() -> list[type[CategorizedError]]:
    for module in pkgutil.walk_packages(ledger.__path__, "ledger."):  # every error type the functions define...
        importlib.import_module(module.name)
    assert counter.COUNTER  # ...and one defined outside them (the test-only counter aggregate)
    return [DomainError, ApplicationError, *every_subclass(DomainError), *every_subclass(ApplicationError)]


def test_every_category_has_a_client_error_status() -> None:
    assert set(STATUS_OF_CATEGORY) == set(Category)
    assert all(400 <= status < 500 for status in STATUS_OF_CATEGORY.values())


def test_no_domain_or_kernel_error_answers_5xx(every_error_type: list[type[CategorizedError]]) -> None:
    names = {error.__name__ for error in every_error_type}
    assert {"InsufficientFundsError", "VersionNotFoundError", "BelowZeroError", "CounterNotFoundError"} <= names
    for error in every_error_type:
        assert STATUS_OF_CATEGORY[error.category] < HTTPStatus.INTERNAL_SERVER_ERROR, error


def test_error_codes_are_unique_snake_case(every_error_type: list[type[CategorizedError]]) -> None:
    codes = [error.code for error in every_error_type]
    assert len(codes) == len(set(codes)), sorted(codes)
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (counter.CounterNotFoundError, HTTPStatus.NOT_FOUND),
        (counter.CounterExistsError, HTTPStatus.CONFLICT),
        (counter.BelowZeroError, HTTPStatus.CONFLICT),
    ],
)
def test_an_error_declared_outside_the_functions_gets_its_status_from_its_category(
    error: type[DomainError], status: HTTPStatus
) -> None:
    assert STATUS_OF_CATEGORY[error.category] == status


def test_an_error_type_that_states_no_category_is_refused_when_it_is_defined() -> None:
    with pytest.raises(TypeError, match="must state its own category"):

        class VagueError(DomainError):
            code = "vague"

    with pytest.raises(TypeError, match="must state its own code and category"):

        class NamelessError(ApplicationError):
            pass


def test_the_http_layer_answers_a_new_error_type_by_its_category_with_its_code() -> None:
    app = APIGatewayHttpResolver()
    register_error_handlers(app, Logger(service="test"))

    @app.post("/counters/<counter_id>/decrements")
    def decrement(counter_id: str) -> Response[str]:
        raise counter.BelowZeroError(f"Counter {counter_id!r} is at 0; it cannot go below zero.")

    event = http_api_event("POST", "/counters/c-1/decrements", body=b"{}")
    response = app.resolve(event, cast(Any, LambdaContext("test")))

    assert response["statusCode"] == HTTPStatus.CONFLICT
    assert json.loads(response["body"]) == {
        "error": {"code": "below_zero", "message": "Counter 'c-1' is at 0; it cannot go below zero."}
    }
