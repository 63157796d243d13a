"""Builds the CDK app: the ledger stack plus the cdk-nag AwsSolutions checks as a synthesis validation.

No AWS call happens at synth: no lookups, no environment-specific context, no Docker bundling. Without `env` the
stack is environment-agnostic and deploys to the account and region of the credentials `cdk deploy` uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import LedgerStack

STACK_NAME: Final = "Ledger"


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[App, LedgerStack]:
    app = App(context=dict(context) if context else None, outdir=outdir)
    stack = LedgerStack(app, STACK_NAME, description="Event-sourced account ledger (DynamoDB, Lambda, HTTP API)")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
