"""A second aggregate, defined only here: a counter that is created, incremented and decremented, and refuses to go
below zero. It is nothing but declarations (commands, events, state, decide, evolve, errors, and its `Aggregate`),
which is the point: the kernel runs it without a line of its own changed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from ledger.domain.errors import Category, DomainError, InvalidCommandError
from ledger.kernel.aggregate import Aggregate
from ledger.kernel.codec import EventCodec, EventType, StateCodec

# --- commands ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCounter:
    counter_id: str
    start: int = 0


@dataclass(frozen=True)
class Increment:
    counter_id: str
    by: int = 1


@dataclass(frozen=True)
class Decrement:
    counter_id: str
    by: int = 1


CounterCommand = CreateCounter | Increment | Decrement

# --- events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterCreated:
    counter_id: str
    start: int


@dataclass(frozen=True)
class Incremented:
    counter_id: str
    by: int


@dataclass(frozen=True)
class Decremented:
    counter_id: str
    by: int


CounterEvent = CounterCreated | Incremented | Decremented

# --- state and refusals ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counter:
    counter_id: str
    value: int
    changed_at: str


class CounterNotFoundError(DomainError):
    code = "counter_not_found"
    category = Category.NOT_FOUND


class CounterExistsError(DomainError):
    code = "counter_exists"
    category = Category.CONFLICT


class BelowZeroError(DomainError):
    code = "below_zero"
    category = Category.CONFLICT


def decide(state: Counter | None, command: CounterCommand) -> list[CounterEvent]:
    if isinstance(command, CreateCounter):
        if command.start < 0:
            raise InvalidCommandError("A counter starts at zero or more.", field="start")
        return [CounterCreated(command.counter_id, command.start)]
    if command.by < 1:
        raise InvalidCommandError("A counter moves by one or more.", field="by")
    if state is None:  # the kernel refuses this first; a decider stays total anyway
        raise CounterNotFoundError(command.counter_id)
    if isinstance(command, Increment):
        return [Incremented(command.counter_id, command.by)]
    if state.value - command.by < 0:
        raise BelowZeroError(f"Counter {command.counter_id!r} is at {state.value}; it cannot go below zero.")
    return [Decremented(command.counter_id, command.by)]


def evolve(state: Counter | None, event: CounterEvent, version: int, occurred_at: str) -> Counter:
    if isinstance(event, CounterCreated):
        return Counter(event.counter_id, event.start, occurred_at)
    if state is None:
        raise ValueError(f"{type(event).__name__} at version {version} precedes CounterCreated")
    change = event.by if isinstance(event, Incremented) else -event.by
    return replace(state, value=state.value + change, changed_at=occurred_at)


COUNTER: Final = Aggregate[CounterCommand, CounterEvent, Counter](
    type="Counter",
    events=EventCodec(
        [
            EventType("CounterCreated", CounterCreated),
            EventType("Incremented", Incremented),
            EventType("Decremented", Decremented),
        ]
    ),
    state=StateCodec(Counter, schema_version=1),
    decide=decide,
    evolve=evolve,
    id_of=lambda command: command.counter_id,
    creation=(CreateCounter,),
    commuting=(Increment,),  # increments add up in any order; decrements do not (which one hits zero depends on it)
    not_found=CounterNotFoundError,
    already_exists=CounterExistsError,
)
