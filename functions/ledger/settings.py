"""Typed settings read once from the environment (the CDK stack and the local runtime set the same names)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    event_table: str
    idempotency_table: str
    snapshot_interval: int = 100
    command_max_attempts: int = 5
    idempotency_ttl: timedelta = timedelta(hours=24)
    state_cache_size: int = 1000

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
        )


def _positive_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {raw!r}")
    return int(raw)
