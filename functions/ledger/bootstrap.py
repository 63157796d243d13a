"""The composition root: one per process, holding every part the process's function uses (kernel/components.py says
how parts are declared, built and swapped). This module declares the kernel's parts: the AWS clients, the event store,
the registry of aggregates, one command service per aggregate, the bus and the publisher; `ledger/components.py`
declares the ledger's read models and consumers the same way.

A handler module names what it uses when it is imported (Lambda's init), e.g.
`bootstrap.start(bootstrap.command_service(ORDER))`, which reads and checks every setting those parts need; it gets the
parts with `bootstrap.get(...)` while handling a request. Tests call `bootstrap.reset()` and `provide` fakes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from ledger.kernel.aggregate import Aggregate, Registry
from ledger.kernel.components import ROOT, Check, Component, Root, Setting, text, whole_number

if TYPE_CHECKING:  # what a function does not use, it never imports: each module loads on first use
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient

    from ledger.adapters.s3_archive import S3Archive
    from ledger.kernel.ports import EventStore, MessageBus, StateViews
    from ledger.kernel.projections import StateProjection
    from ledger.kernel.publishing import Publisher
    from ledger.kernel.reactions import Reactor
    from ledger.kernel.reader import Reader
    from ledger.kernel.repository import Repository
    from ledger.kernel.service import CommandService, ServiceSettings

C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")
T = TypeVar("T")

# --- the process's root ----------------------------------------------------------------------------------------

_lock = threading.Lock()
_root: Root | None = None


def root() -> Root:
    global _root  # noqa: PLW0603 - the one root of the process
    if _root is None:
        with _lock:
            if _root is None:
                _root = Root()
    return _root


def start(*components: Component[Any]) -> Root:
    """Check, at the function's start, every setting `components` need (SettingsError names what is wrong)."""
    return root().start(*components)


def get(component: Component[T]) -> T:
    return root().get(component)


def reset(replacement: Root | None = None) -> Root:
    """Start over with `replacement` (default: a new root reading the environment); returns it."""
    global _root  # noqa: PLW0603
    with _lock:
        _root = replacement or Root()
        return _root


# --- settings (the topology sets each; docs/deploy.md lists them) -----------------------------------------------


def _routes(value: str) -> dict[str, tuple[str, ...]]:
    try:
        routes = json.loads(value)
    except ValueError:
        routes = None
    if not isinstance(routes, dict) or not all(_stream_names(v) for v in routes.values()):
        raise ValueError(
            "must be a JSON object of aggregate type to stream name (or to a list of them, for a type every stream "
            f'carries), e.g. {{"Order": "orders", "Heartbeat": ["orders", "fulfilment"]}}, not {value!r}'
        )
    return {aggregate_type: _stream_names(streams) for aggregate_type, streams in routes.items()}


def _stream_names(value: object) -> tuple[str, ...]:
    """The stream names a route value holds: one name, or a non-empty list of them; () when malformed."""
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(names) if names and all(isinstance(n, str) and n for n in names) else ()


EVENT_TABLE = Setting("EVENT_TABLE_NAME", text)
IDEMPOTENCY_TABLE = Setting("IDEMPOTENCY_TABLE_NAME", text)
SNAPSHOT_INTERVAL = Setting("SNAPSHOT_INTERVAL", whole_number(1))
COMMAND_MAX_ATTEMPTS = Setting("COMMAND_MAX_ATTEMPTS", whole_number(1))
# The time by which a command answers, 409 at worst: no retry starts that would end later, so it must be well within
# the function's timeout; commuting commands retry until it is spent (kernel/retries.py).
COMMAND_RETRY_BUDGET_MS = Setting("COMMAND_RETRY_BUDGET_MS", whole_number(0))
IDEMPOTENCY_TTL_SECONDS = Setting("IDEMPOTENCY_TTL_SECONDS", whole_number(1))
STATE_CACHE_SIZE = Setting("STATE_CACHE_SIZE", whole_number(0))
EVENT_STREAMS = Setting("EVENT_STREAMS", _routes)  # aggregate type -> the Kinesis stream(s) its events go to
ARCHIVE_BUCKET = Setting("ARCHIVE_BUCKET_NAME", text)  # the event archive's bucket: the operators' tools only


# --- clients ---------------------------------------------------------------------------------------------------


def _client(service: str) -> Any:
    """A client with short SDK retries: retrying is the callers' business (the service reloads state first, a
    stream consumer's batch is retried by its event source mapping). boto3 costs ~0.2 s to import: paid on the
    first request, not at cold import."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))  # type: ignore[call-overload]


DYNAMODB: Final[Component[DynamoDBClient]] = Component("dynamodb", lambda: _client("dynamodb"))
KINESIS: Final[Component[KinesisClient]] = Component("kinesis", lambda: _client("kinesis"))
SNS: Final[Component[SNSClient]] = Component("sns", lambda: _client("sns"))
S3: Final[Component[S3Client]] = Component("s3", lambda: _client("s3"))
CLIENTS: Final[tuple[Component[Any], ...]] = (DYNAMODB, KINESIS, SNS, S3)


def clients() -> tuple[Component[Any], ...]:
    """The AWS clients the parts this process started are built from: what its first requests build (at most; a
    batch that raises no alert builds no Kinesis client). The bench times a cold start with them."""
    return tuple(client for client in CLIENTS if root().needs(client))


# --- the kernel's parts ----------------------------------------------------------------------------------------


def _registry() -> Registry:
    from ledger.catalog import AGGREGATES  # noqa: PLC0415 - the catalog imports the aggregates' domains

    return AGGREGATES


def _archive(client: S3Client, bucket: str) -> S3Archive:
    from ledger.adapters.s3_archive import S3Archive  # noqa: PLC0415

    return S3Archive(client, bucket)


def _event_store(client: DynamoDBClient, event_table: str, registry: Registry) -> EventStore:
    from ledger.adapters.dynamodb_event_store import DynamoDBEventStore  # noqa: PLC0415 - keeps botocore off import

    return DynamoDBEventStore(client, event_table=event_table, bare_stream_key_types=registry.bare_stream_key_types)


def _command_store(client: DynamoDBClient, event_table: str, idempotency_table: str, registry: Registry) -> EventStore:
    from ledger.adapters.dynamodb_event_store import DynamoDBEventStore  # noqa: PLC0415

    return DynamoDBEventStore(
        client,
        event_table=event_table,
        idempotency_table=idempotency_table,
        bare_stream_key_types=registry.bare_stream_key_types,
    )


def _service_settings(
    snapshot_interval: int, max_attempts: int, budget_ms: int, ttl_seconds: int, cache_size: int
) -> ServiceSettings:
    from ledger.kernel.service import ServiceSettings  # noqa: PLC0415

    return ServiceSettings(
        snapshot_interval,
        max_attempts,
        timedelta(seconds=ttl_seconds),
        cache_size,
        retry_budget=timedelta(milliseconds=budget_ms),
    )


def _bus(client: KinesisClient) -> MessageBus:
    from ledger.adapters.kinesis_bus import KinesisBus  # noqa: PLC0415

    return KinesisBus(client)


def _routes_of_every_type(registry: Registry, routes: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    unrouted = [aggregate_type for aggregate_type in registry.types if aggregate_type not in routes]
    if unrouted:
        raise ValueError(
            f"EVENT_STREAMS assigns no stream to {', '.join(unrouted)}: the publisher could not publish them"
        )
    return routes


def _publisher(registry: Registry, routes: dict[str, tuple[str, ...]], bus: MessageBus) -> Publisher:
    from ledger.kernel.publishing import Publisher  # noqa: PLC0415

    return Publisher(registry, routes, bus)


REGISTRY: Final[Component[Registry]] = Component("registry", _registry)
ARCHIVE: Final[Component[S3Archive]] = Component("archive", _archive, S3, ARCHIVE_BUCKET)
# Reads events (consumers, queries, rebuilds): no idempotency table needed.
EVENT_STORE: Final[Component[EventStore]] = Component("event_store", _event_store, DYNAMODB, EVENT_TABLE, REGISTRY)
# Appends events with their idempotency records (the command function).
COMMAND_STORE: Final[Component[EventStore]] = Component(
    "command_store", _command_store, DYNAMODB, EVENT_TABLE, IDEMPOTENCY_TABLE, REGISTRY
)
SERVICE_SETTINGS: Final[Component[ServiceSettings]] = Component(
    "service_settings",
    _service_settings,
    SNAPSHOT_INTERVAL,
    COMMAND_MAX_ATTEMPTS,
    COMMAND_RETRY_BUDGET_MS,
    IDEMPOTENCY_TTL_SECONDS,
    STATE_CACHE_SIZE,
)
BUS: Final[Component[MessageBus]] = Component("bus", _bus, KINESIS)
# Every declared type has a stream, or the publisher does not start (an event it could not route would hold up its
# shard for a day of retries).
ROUTES: Final[Check[dict[str, tuple[str, ...]]]] = Check("routes", _routes_of_every_type, REGISTRY, EVENT_STREAMS)
PUBLISHER: Final[Component[Publisher]] = Component("publisher", _publisher, REGISTRY, ROUTES, BUS)

# One part per aggregate type, built from the declaration the registry holds (a test that provides another registry,
# e.g. with a new schema version of an event, changes every part at once); the declaration passed in gives the
# part's name and its types.
_per_type: dict[str, Component[Any]] = {}


def _per_aggregate(kind: str, aggregate: Aggregate[Any, Any, Any], build: Any, *needs: Component[Any]) -> Any:
    name = f"{kind}:{aggregate.type}"
    with _lock:
        return _per_type.setdefault(name, Component(name, build, REGISTRY, *needs))


def command_service(aggregate: Aggregate[C, E, S]) -> Component[CommandService[C, E, S]]:
    """The command service of `aggregate` (one per aggregate, on the command store)."""

    def build(registry: Registry, store: EventStore, settings: ServiceSettings) -> CommandService[C, E, S]:
        from ledger.kernel.service import CommandService  # noqa: PLC0415

        return CommandService(registry[aggregate.type], store, settings, sleep=time.sleep)

    return cast(
        "Component[CommandService[C, E, S]]",
        _per_aggregate("service", aggregate, build, COMMAND_STORE, SERVICE_SETTINGS),
    )


def repository(aggregate: Aggregate[Any, Any, S]) -> Component[Repository[S]]:
    """Loads of `aggregate` for the consumers and rebuilds (on the reading event store)."""

    def build(registry: Registry, store: EventStore, snapshot_interval: int) -> Repository[S]:
        from ledger.kernel.repository import Repository  # noqa: PLC0415

        return Repository(registry[aggregate.type], store, page_size=snapshot_interval)

    return cast(
        "Component[Repository[S]]", _per_aggregate("repository", aggregate, build, EVENT_STORE, SNAPSHOT_INTERVAL)
    )


def reader(aggregate: Aggregate[Any, Any, S]) -> Component[Reader[S]]:
    """The reads of `aggregate`: state now, at a version or an instant, and history (the query function)."""

    def build(_: Registry, loads: Repository[S]) -> Reader[S]:
        from ledger.kernel.reader import Reader  # noqa: PLC0415

        return Reader(loads)

    return cast("Component[Reader[S]]", _per_aggregate("reader", aggregate, build, repository(aggregate)))


class StateProjectionPart(Component["StateProjection[Any]"]):
    """A state projection's part, which says which aggregate type it keeps (the projector dispatches on it)."""

    def __init__(self, aggregate_type: str, build: Any, *needs: Component[Any]) -> None:
        super().__init__(f"state_projection:{aggregate_type}", build, *needs)
        self.aggregate_type = aggregate_type


def state_projection(aggregate: Aggregate[Any, Any, S], views: Component[StateViews[S]]) -> StateProjectionPart:
    """The read model of `aggregate`'s newest states in `views`: kept live by the projector, rebuilt by the
    rebuild. All it takes is this declaration."""

    def build(loads: Repository[S], rows: StateViews[S]) -> StateProjection[S]:
        from ledger.kernel.projections import StateProjection  # noqa: PLC0415

        return StateProjection(loads, rows)

    return StateProjectionPart(aggregate.type, build, repository(aggregate), views)


def state_projections(parts: Iterable[Component[Any]]) -> dict[str, StateProjectionPart]:
    """The state projections among `parts`, by the aggregate type each keeps."""
    return {part.aggregate_type: part for part in parts if isinstance(part, StateProjectionPart)}


def reactor(caller: str) -> Component[Reactor]:
    """What a consumer named `caller` sends its commands through: the command service of each aggregate it meets."""

    def build(parts: Root, _: EventStore, __: ServiceSettings) -> Reactor:  # needs them: their settings are checked
        from ledger.kernel.reactions import Reactor  # noqa: PLC0415

        return Reactor(caller, lambda aggregate: parts.get(command_service(aggregate)))

    with _lock:
        return cast(
            "Component[Reactor]",
            _per_type.setdefault(
                f"reactor:{caller}", Component(f"reactor:{caller}", build, ROOT, COMMAND_STORE, SERVICE_SETTINGS)
            ),
        )
