"""Consumers that answer events with commands (process managers): e.g. reserving stock when an item is added to an
order, requesting a shipment when an order is paid. A consumer declares, per event, the commands it sends
(`Reaction`s); the `Reactor` runs them through the aggregates' command services.

Every effect happens once however often an event is delivered: each command's Idempotency-Key derives from the id
of the event it answers (and the reaction's own key), so a redelivered event is answered from the idempotency record
the first delivery wrote, in the same transaction as its events. Refusals that mean "already done" or "no longer
needed" (e.g. a shipment that exists) are declared per reaction and count as done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledger.domain.errors import DomainError
from ledger.kernel.aggregate import Aggregate, RecordedEvent
from ledger.kernel.service import CommandContext, CommandService, IdempotencyRequest


@dataclass(frozen=True)
class Reaction:
    aggregate: Aggregate[Any, Any, Any]
    command: Any
    key: str  # tells apart the commands one event causes (e.g. one per sku); part of the Idempotency-Key
    tolerated: tuple[type[DomainError], ...] = ()  # refusals that mean the command's effect is there already


@dataclass(frozen=True)
class Answer:
    reaction: Reaction
    outcome: str  # "done", "repeat" (answered from the idempotency record) or the tolerated refusal's code


class Reactor:
    def __init__(self, caller: str, services: Callable[[Aggregate[Any, Any, Any]], CommandService[Any, Any, Any]]):
        self.caller = caller  # scopes the Idempotency-Keys: two consumers answering one event never collide
        self._services = services

    def react(self, event: RecordedEvent[Any], reactions: Iterable[Reaction]) -> list[Answer]:
        """Send each reaction's command, in order; what became of each. Raises what is not tolerated."""
        answers = []
        for reaction in reactions:
            try:
                outcome = self._services(reaction.aggregate).execute(reaction.command, self._context(event, reaction))
            except reaction.tolerated as refused:
                answers.append(Answer(reaction, refused.code))
                continue
            answers.append(Answer(reaction, "repeat" if outcome.idempotent_replay else "done"))
        return answers

    def _context(self, event: RecordedEvent[Any], reaction: Reaction) -> CommandContext:
        metadata = event.record.metadata
        return CommandContext(
            correlation_id=metadata.get("correlation_id", event.event_id),
            causation_id=event.event_id,
            idempotency=IdempotencyRequest(
                key=f"{event.event_id}:{reaction.key}",
                caller=self.caller,
                # A frozen dataclass's repr is its type and values: the same reaction gives the same fingerprint.
                fingerprint=f"{reaction.aggregate.type}:{reaction.command!r}",
            ),
        )
