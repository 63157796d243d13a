"""The one description of the system's topology: tables, functions, routes and access.

Standard library only. The CDK stack (infra/stack.py) builds AWS resources from it; the local runtime (local/)
builds the same tables on moto and serves the same routes with the same handler functions, so the two cannot drift.
Tests check that the routes here are the routes the handlers register and the OpenAPI document describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

KeyType = Literal["S", "N"]
StreamView = Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "OLD_IMAGE"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType


@dataclass(frozen=True)
class LocalIndex:
    name: str
    sort_key: Key
    projection: Literal["KEYS_ONLY", "ALL"] = "KEYS_ONLY"


@dataclass(frozen=True)
class Table:
    id: str  # logical id: construct id in CDK, suffix of the local table name
    env_var: str  # the functions find the table's name in this environment variable
    description: str
    partition_key: Key
    sort_key: Key | None = None
    local_indexes: tuple[LocalIndex, ...] = ()
    stream: StreamView | None = None
    ttl_attribute: str | None = None
    durable_locally: bool = True  # the local runtime journals it to disk and reloads it on start

    @property
    def local_name(self) -> str:
        return f"ledger-{self.id}"


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str  # API Gateway syntax: /accounts/{account_id}

    @property
    def key(self) -> str:
        """API Gateway's routeKey, e.g. 'GET /accounts/{account_id}'."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class TableAccess:
    table: str  # Table.id
    actions: tuple[str, ...]  # DynamoDB actions, e.g. ("dynamodb:Query",)
    indexes: bool = False  # whether the actions also apply to the table's indexes


@dataclass(frozen=True)
class Function:
    id: str
    handler: str  # module.attribute under functions/
    description: str
    routes: tuple[Route, ...] = ()
    access: tuple[TableAccess, ...] = ()
    memory_mb: int = 512
    timeout_seconds: int = 10
    default_route: bool = False  # serves API Gateway's $default route (every unmatched request)


@dataclass(frozen=True)
class Topology:
    tables: tuple[Table, ...]
    functions: tuple[Function, ...]
    environment: dict[str, str] = field(default_factory=dict)  # same for every function

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    def function(self, function_id: str) -> Function:
        return next(f for f in self.functions if f.id == function_id)

    @property
    def routes(self) -> dict[str, Function]:
        return {route.key: function for function in self.functions for route in function.routes}

    @property
    def default_function(self) -> Function:
        return next(f for f in self.functions if f.default_route)


EVENTS: Final = Table(
    id="events",
    env_var="EVENT_TABLE_NAME",
    description="The event store: one partition per aggregate; events at seq 1, 2, 3..., snapshots at V + 0.5",
    partition_key=Key("aggregate_id", "S"),
    sort_key=Key("seq", "N"),
    local_indexes=(LocalIndex("by_time", Key("at_version", "S")),),
    stream="NEW_IMAGE",
)
IDEMPOTENCY: Final = Table(
    id="idempotency",
    env_var="IDEMPOTENCY_TABLE_NAME",
    description="First outcome of each command sent with an Idempotency-Key, written in the same transaction",
    partition_key=Key("idempotency_key", "S"),
    ttl_attribute="expires_at",
)

TOPOLOGY: Final = Topology(
    tables=(EVENTS, IDEMPOTENCY),
    functions=(
        Function(
            id="commands",
            handler="ledger.entrypoints.commands.lambda_handler",
            description="Account commands: load, decide, append events (conditional, idempotent)",
            routes=(
                Route("POST", "/accounts"),
                Route("POST", "/accounts/{account_id}/deposits"),
                Route("POST", "/accounts/{account_id}/withdrawals"),
                Route("POST", "/accounts/{account_id}/close"),
            ),
            access=(
                # PutItem with attribute_not_exists only: no UpdateItem or DeleteItem, events are immutable.
                TableAccess("events", ("dynamodb:Query", "dynamodb:PutItem")),
                TableAccess("idempotency", ("dynamodb:GetItem", "dynamodb:PutItem")),
            ),
        ),
        Function(
            id="queries",
            handler="ledger.entrypoints.queries.lambda_handler",
            description="Account state (current or temporal), event history, health, OpenAPI, unknown routes",
            routes=(
                Route("GET", "/accounts/{account_id}"),
                Route("GET", "/accounts/{account_id}/events"),
                Route("GET", "/health"),
                Route("GET", "/openapi.json"),
            ),
            access=(TableAccess("events", ("dynamodb:Query",), indexes=True),),
            default_route=True,
        ),
    ),
    environment={
        "POWERTOOLS_SERVICE_NAME": "ledger",
        "SNAPSHOT_INTERVAL": "100",
        "COMMAND_MAX_ATTEMPTS": "5",
        "IDEMPOTENCY_TTL_SECONDS": "86400",
        "STATE_CACHE_SIZE": "1000",
    },
)
