"""Typed domain errors. Entry points map each type to a response in one place."""


class DomainError(Exception):
    """A command was refused by a business rule. Nothing was recorded."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCommandError(DomainError):
    """A command's values break an invariant the type system cannot express (e.g. an unknown currency)."""

    code = "validation_error"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class AccountNotFoundError(DomainError):
    code = "account_not_found"


class AccountAlreadyExistsError(DomainError):
    code = "account_exists"


class AccountClosedError(DomainError):
    code = "account_closed"


class InsufficientFundsError(DomainError):
    code = "insufficient_funds"


class BalanceLimitExceededError(DomainError):
    code = "balance_limit_exceeded"


class NonZeroBalanceError(DomainError):
    code = "balance_not_zero"
