"""What figure 11 counts: every AWS call one kind of command causes, fan-out included, on in-process moto.

For each kind (open account, deposit, withdraw, place order, add item, pay, cancel, restock, dispatch, deliver...):

- *setup*: what the command needs (accounts opened, orders placed and paid, shipments requested...) is made through
  the services of another process (an unrecorded client, a composition root of its own), and the whole pipeline
  runs until it is quiet, unrecorded;
- *measured*: N commands of the kind, each on its own aggregate, as API Gateway hands them to the command
  function: an HTTP API event (payload 2.0) for the route the topology gives the request, through the command
  function's real `lambda_handler`, its composition root on recorded clients. Its process never saw those
  aggregates, so each command loads (a cold state cache: the conservative case; a warm one saves the Query);
- *fan-out*: then every event source mapping of the topology, upstream first, takes what is new on its source in
  its batches (its filters, its batch size) through its function's real handler, round after round until a round
  finds nothing new: the events the command wrote, the messages the publisher put on the streams, the commands the
  consumers sent in answer (inventory's reservations, shipping's shipments, order fraud's customers) and their own
  fan-out, the alerts and notifications.

Each invocation's calls are recorded with their parameters (item sizes) and what reads returned (their sizes),
with the time spent in the handler, in the client calls, and the bytes it logged.
"""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws

from bench.aws import Call, CallRecorder, Deployment, client, deploy_pipeline, transactions_copy_touched_items
from bench.pipeline import Poller, batches, printed_to_file, upstream_first
from infra.model import EventSource, Function
from infra.topology import TOPOLOGY
from ledger import bootstrap
from ledger.application.accounts import ACCOUNT
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.domain.accounts import OpenAccount
from ledger.domain.orders import Line, PlaceOrder, ReceivePayment
from ledger.domain.shipments import DispatchShipment
from ledger.domain.stock import Restock
from ledger.kernel.components import Root
from ledger.kernel.service import CommandContext
from local.apigw import LambdaContext, http_api_event
from local.environment import function_name
from local.routing import Router

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_COMMANDS: Final = 20  # per kind
MAX_ROUNDS: Final = 30
OPENING: Final = 100_000  # cents in an account opened for a withdrawal
AMOUNT: Final = 2_500
SKUS: Final = 8  # per kind: its orders' lines spread over them, so a sku holds a few open reservations
STOCKED: Final = 500
PRICE: Final = 1_250
_SETUP: Final = CommandContext(correlation_id="bench-cost-setup", causation_id="bench-cost-setup")


@dataclass
class Invocation:
    """One invocation of a function: an HTTP request (records 1) or a batch of its mapping."""

    function: Function
    source: EventSource | None  # None: an HTTP request
    records: int
    seconds: float
    calls: list[Call]
    log_bytes: int

    @property
    def client_seconds(self) -> float:
        return sum(call.seconds for call in self.calls)


@dataclass
class Measured:
    """What N commands of one kind caused."""

    kind: str
    commands: int
    invocations: list[Invocation] = field(default_factory=list)
    sizes_after: dict[tuple[str, str], int] = field(default_factory=dict)  # (table, key) -> bytes, items updated

    def calls(self) -> Iterator[Call]:
        for invocation in self.invocations:
            yield from invocation.calls


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """One moto, the topology on it, the functions' composition roots (one per function: its process), the
    mappings' pollers, and the setup's own process."""

    deployment: Deployment
    recorder: CallRecorder
    roots: dict[str, Root]
    setup: Root
    setup_client: DynamoDBClient
    pollers: list[Poller]
    printed: Callable[[], int]
    router: Router = field(default_factory=lambda: Router(TOPOLOGY))

    def handler(self, function: Function) -> Callable[[dict[str, Any], Any], Any]:
        """The function's lambda_handler with its process's root current (a handler module starts on the root
        current when it is first imported, and gets its parts from the current root while it runs)."""
        bootstrap.reset(self.roots[function.id])
        module, _, attribute = function.handler.rpartition(".")
        handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), attribute)
        return handler

    def invoke(self, function: Function, event: dict[str, Any], source: EventSource | None) -> Invocation:
        handler = self.handler(function)
        printed = self.printed()
        with self.recorder.recording() as calls:
            start = time.perf_counter()
            response = handler(event, LambdaContext(function_name(function), memory_limit_in_mb=function.memory_mb))
            seconds = time.perf_counter() - start
        records = len(event["Records"]) if source is not None else 1
        invocation = Invocation(function, source, records, seconds, calls.calls, self.printed() - printed)
        failures = (response or {}).get("batchItemFailures") if source is not None else None
        if failures:
            raise RuntimeError(f"{function.id} failed {len(failures)} records of a batch: {failures[:2]}")
        if source is None and int(response.get("statusCode", 0)) not in (200, 201):
            raise RuntimeError(f"{event['routeKey']} answered {response.get('statusCode')}: {response.get('body')}")
        return invocation

    def request(self, request: Request) -> Invocation:
        match = self.router.match(request.method, request.path)
        event = http_api_event(
            request.method,
            request.path,
            route_key=match.route_key,
            path_parameters=match.path_parameters or None,
            headers={"content-type": "application/json", **request.headers},
            body=json.dumps(request.body).encode(),
        )
        return self.invoke(match.function, event, None)

    def settle(self) -> list[Invocation]:
        """Every mapping, upstream first, on what is new on its source, round after round until a round finds
        nothing new; the invocations."""
        done: list[Invocation] = []
        for _ in range(MAX_ROUNDS):
            found = False
            for poller in self.pollers:
                for event in batches(poller.source, poller.poll()):
                    done.append(self.invoke(poller.function, event, poller.source))
                    found = True
            if not found:
                return done
        raise RuntimeError(f"the pipeline was not quiet after {MAX_ROUNDS} rounds")

    def service(self, aggregate: Any) -> Any:
        return self.setup.get(bootstrap.command_service(aggregate))


@contextmanager
def world() -> Iterator[World]:
    """moto in-process, the topology's tables, streams and topic; the handlers' output to a file (Lambda sends it to
    CloudWatch); moto's transactions copying only the items they touch (local/moto_transactions.py)."""
    with mock_aws(), transactions_copy_touched_items(), printed_to_file() as printed:
        dynamodb, kinesis, sns = (client(service) for service in ("dynamodb", "kinesis", "sns"))
        recorder = CallRecorder(dynamodb, kinesis, sns, sizes=True)
        deployment = deploy_pipeline(dynamodb, kinesis, sns)
        roots = {f.id: deployment.root(dynamodb, kinesis, sns) for f in TOPOLOGY.functions}
        setup_client = client("dynamodb")
        setup = deployment.root(setup_client, client("kinesis"), client("sns"))
        pollers = [Poller(f, source, dynamodb, kinesis) for f, source in upstream_first(lambda _f, _s: True)]
        try:
            yield World(deployment, recorder, roots, setup, setup_client, pollers, printed)
        finally:
            bootstrap.reset()


# --- the kinds of command: their setup and their request ----------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    prepare: Callable[[World, list[str]], None]  # makes what the commands on these ids need (through the services)
    request: Callable[[str], Request]  # the command on one id


def _skus(ids: list[str]) -> list[str]:
    return [f"{ids[0][:8]}-sku-{n}" for n in range(SKUS)]


def _lines(ids: list[str], number: int, count: int = 2) -> tuple[Line, ...]:
    skus = _skus(ids)
    return tuple(Line(skus[(number * count + n) % SKUS], 1 + n, PRICE) for n in range(count))


def _total(lines: tuple[Line, ...]) -> int:
    return sum(line.quantity * line.unit_price for line in lines)


def _open(world: World, ids: list[str], *, balance: int) -> None:
    for account in ids:
        world.service(ACCOUNT).execute(OpenAccount(account, "Bench", "USD", balance), _SETUP)


def _stock(world: World, ids: list[str]) -> None:
    for sku in _skus(ids):
        world.service(STOCK).execute(Restock(sku, STOCKED), _SETUP)


def _place(world: World, ids: list[str], *, count: int = 2, paid: bool = False) -> None:
    _stock(world, ids)
    for number, order in enumerate(ids):
        lines = _lines(ids, number, count)
        world.service(ORDER).execute(PlaceOrder(order, f"{order}-buyer", "USD", lines), _SETUP)
        if paid:
            world.service(ORDER).execute(ReceivePayment(order, f"{order}-pay", _total(lines), "card"), _SETUP)


def _dispatched(world: World, ids: list[str]) -> None:
    _place(world, ids, paid=True)
    world.settle()  # shipping requests each shipment
    for order in ids:
        world.service(SHIPMENT).execute(DispatchShipment(order), _SETUP)


def _order_body(order: str, ids: list[str]) -> dict[str, Any]:
    lines = _lines(ids, ids.index(order))
    items = [{"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price} for line in lines]
    return {"order_id": order, "customer_id": f"{order}-buyer", "items": items}


def kinds(ids_of: Callable[[str], list[str]]) -> list[Kind]:
    """The kinds of command measured; `ids_of(kind)` gives the aggregates its commands go to (one each)."""
    placing, adding, paying = ids_of("place order"), ids_of("add item"), ids_of("pay in full")

    def deposit(account: str, *, key: bool = False) -> Request:
        headers = {"idempotency-key": str(uuid.uuid4())} if key else {}
        return Request("POST", f"/accounts/{account}/deposits", {"amount": AMOUNT}, headers)

    def add_item(order: str) -> Request:
        sku = _skus(adding)[(adding.index(order) + 1) % SKUS]  # another sku than the order's first line's
        return Request("POST", f"/orders/{order}/items", {"sku": sku, "quantity": 1, "unit_price": PRICE})

    def pay(order: str) -> Request:
        total = _total(_lines(paying, paying.index(order)))
        return Request("POST", f"/orders/{order}/payments", {"amount": total, "method": "card"})

    def restocked(world: World, skus: list[str]) -> None:
        for sku in skus:
            world.service(STOCK).execute(Restock(sku, STOCKED), _SETUP)

    return [
        Kind("open account", lambda _w, _ids: None, _open_request),
        Kind("deposit", partial(_open, balance=0), deposit),
        Kind("deposit with Idempotency-Key", partial(_open, balance=0), partial(deposit, key=True)),
        Kind(
            "withdraw",
            partial(_open, balance=OPENING),
            lambda a: Request("POST", f"/accounts/{a}/withdrawals", {"amount": AMOUNT}),
        ),
        Kind("place order", _stock, lambda o: Request("POST", "/orders", _order_body(o, placing))),
        Kind("add item", partial(_place, count=1), add_item),
        Kind("pay in full", _place, pay),
        Kind("cancel (unpaid)", _place, lambda o: Request("POST", f"/orders/{o}/cancel", {})),
        Kind("restock", restocked, lambda s: Request("POST", f"/inventory/{s}/restocks", {"quantity": 10})),
        Kind("dispatch", partial(_place, paid=True), lambda o: Request("POST", f"/shipments/{o}/dispatch", {})),
        Kind("deliver", _dispatched, lambda o: Request("POST", f"/shipments/{o}/deliver", {})),
    ]


def _open_request(account: str) -> Request:
    return Request("POST", "/accounts", {"account_id": account, "owner": "Bench", "initial_balance": OPENING})


def measure(commands: int = DEFAULT_COMMANDS) -> list[Measured]:
    """Each kind's N commands and everything they caused."""
    run = uuid.uuid4().hex[:6]
    ids: dict[str, list[str]] = {}

    def ids_of(kind: str) -> list[str]:
        slug = "".join(c if c.isalnum() else "-" for c in kind)[:12]
        return ids.setdefault(kind, [f"{run}-{slug}-{n:03d}-{uuid.uuid4().hex[:8]}" for n in range(commands)])

    measured = []
    with world() as w:
        _warm_up(w, run)
        for kind in kinds(ids_of):
            aggregates = ids_of(kind.name)
            kind.prepare(w, aggregates)
            w.settle()
            result = Measured(kind.name, commands)
            for aggregate in aggregates:
                result.invocations.append(w.request(kind.request(aggregate)))
            result.invocations += w.settle()
            result.sizes_after = _sizes_after(w.setup_client, result)
            measured.append(result)
    return measured


def _warm_up(world: World, run: str) -> None:
    """One command of each kind and its fan-out, not counted: each function builds its parts (clients, services,
    codecs) on its first invocation, which a cold start pays once, not each command."""
    ids: dict[str, list[str]] = {}

    def ids_of(kind: str) -> list[str]:
        return ids.setdefault(kind, [f"{run}-warm-{len(ids):02d}-{uuid.uuid4().hex[:8]}"])

    for kind in kinds(ids_of):
        aggregates = ids_of(kind.name)
        kind.prepare(world, aggregates)
        world.settle()
        world.request(kind.request(aggregates[0]))
        world.settle()


def _sizes_after(dynamodb: DynamoDBClient, measured: Measured) -> dict[tuple[str, str], int]:
    """The size of each item an UpdateItem (alone or in a transaction) wrote, as it is now: an update consumes units
    for the larger of the item before and after it, and these items (counters, marks) only grow."""
    from bench.sizes import item_size

    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for call in measured.calls():
        updates = [call.params] if call.operation == "UpdateItem" else []
        if call.operation == "TransactWriteItems":
            updates = [action["Update"] for action in call.params["TransactItems"] if "Update" in action]
        for update in updates:
            keys[update["TableName"], json.dumps(update["Key"], sort_keys=True, default=str)] = update
    sizes = {}
    for (table, key), update in keys.items():
        item = dynamodb.get_item(TableName=table, Key=update["Key"], ConsistentRead=True).get("Item")
        sizes[table, key] = item_size(item) if item else 0
    return sizes
