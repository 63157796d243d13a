"""Typed settings read once from the environment (the CDK stack and the local runtime set the same names)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ledger.domain.fraud import FraudRules


@dataclass(frozen=True)
class Settings:
    event_table: str
    idempotency_table: str
    snapshot_interval: int = 100
    command_max_attempts: int = 5
    idempotency_ttl: timedelta = timedelta(hours=24)
    state_cache_size: int = 1000
    # The pipeline's resources: each function's environment names those it uses ("" where it has none).
    accounts_table: str = ""
    alerts_table: str = ""
    reports_table: str = ""
    notifications_table: str = ""
    transactions_stream: str = ""
    alerts_stream: str = ""
    notification_topic_arn: str = ""
    fraud_rules: FraudRules = field(default_factory=FraudRules)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            event_table=env["EVENT_TABLE_NAME"],
            idempotency_table=env["IDEMPOTENCY_TABLE_NAME"],
            snapshot_interval=_positive_int(env, "SNAPSHOT_INTERVAL", 100),
            command_max_attempts=_positive_int(env, "COMMAND_MAX_ATTEMPTS", 5),
            idempotency_ttl=timedelta(seconds=_positive_int(env, "IDEMPOTENCY_TTL_SECONDS", 86_400)),
            state_cache_size=_positive_int(env, "STATE_CACHE_SIZE", 1000, minimum=0),
            accounts_table=env.get("ACCOUNTS_TABLE_NAME", ""),
            alerts_table=env.get("ALERTS_TABLE_NAME", ""),
            reports_table=env.get("REPORTS_TABLE_NAME", ""),
            notifications_table=env.get("NOTIFICATIONS_TABLE_NAME", ""),
            transactions_stream=env.get("TRANSACTIONS_STREAM_NAME", ""),
            alerts_stream=env.get("ALERTS_STREAM_NAME", ""),
            notification_topic_arn=env.get("NOTIFICATION_TOPIC_ARN", ""),
            fraud_rules=FraudRules(
                large_amount=_positive_int(env, "FRAUD_LARGE_AMOUNT", 1_000_000),
                velocity_count=_positive_int(env, "FRAUD_VELOCITY_COUNT", 5),
                velocity_window_seconds=_positive_int(env, "FRAUD_VELOCITY_WINDOW_SECONDS", 60),
            ),
        )

    def require(self, name: str) -> str:
        """The value of setting `name`, which this function needs; a clear error when its environment lacks it."""
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"setting {name} is not configured in this function's environment")
        return str(value)


def _positive_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {raw!r}")
    return int(raw)
