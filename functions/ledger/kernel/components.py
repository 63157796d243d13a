"""The mechanism of the composition root: the parts of the system declared as components, each built on first use
from the components it needs, and settings, which are components read from the environment.

A function names the components it uses when it starts (`Root.start`): every setting they need, however indirectly,
is read then, so a missing or malformed variable stops the cold start with its name, instead of failing the first
request that happens to need it. Everything else (AWS clients above all: boto3 costs ~0.2 s to import) is built on
first use. Tests swap a part with `provide`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Component(Generic[T_co]):
    """A named part, built by `build` called with the values of `needs`, in order."""

    def __init__(self, name: str, build: Callable[..., T_co], *needs: Component[Any]) -> None:
        self.name = name
        self.build = build
        self.needs = needs

    def __repr__(self) -> str:
        return f"Component({self.name})"


class Setting(Component[T_co]):
    """A value of the function's environment (the topology sets every one of them: it is the one source of their
    values), parsed by `parse`, which raises ValueError with a sentence for a malformed value."""

    def __init__(self, variable: str, parse: Callable[[str], T_co]) -> None:
        super().__init__(variable, parse)
        self.variable = variable
        self.parse = parse


class Check(Component[T_co]):
    """A part cheap enough to build when the function starts (no I/O), built then: configuration that only makes
    sense together (e.g. every declared aggregate type has a stream) is refused, by a ValueError, at the start."""


def text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def whole_number(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < minimum:
            raise ValueError(f"must be an integer of at least {minimum}, not {value!r}")
        return int(value)

    return parse


class SettingsError(RuntimeError):
    """The environment lacks settings the function needs, or holds malformed ones (all of them named at once)."""


class Root:
    """Every part one process uses, each built once, on first use."""

    def __init__(self, environment: Mapping[str, str] | None = None) -> None:
        self._environment = environment
        self._built: dict[Component[Any], Any] = {}
        self._provided: set[Component[Any]] = set()
        self._started: list[Component[Any]] = []
        self._lock = threading.RLock()

    @property
    def environment(self) -> Mapping[str, str]:
        return os.environ if self._environment is None else self._environment

    def start(self, *components: Component[Any]) -> Root:
        """Read every setting `components` need, then build every check; SettingsError naming each problem."""
        needed = list(_needed(components))
        problems: list[str] = []
        for setting in (c for c in needed if isinstance(c, Setting)):
            try:
                self.get(setting)
            except SettingsError as error:
                problems.append(str(error))
        if problems:
            raise SettingsError("; ".join(problems))
        for check in (c for c in needed if isinstance(c, Check)):
            try:
                self.get(check)
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise SettingsError("; ".join(problems))
        self._started += [component for component in components if component not in self._started]
        return self

    @property
    def started(self) -> tuple[Component[Any], ...]:
        """The parts `start` was given: what the function uses, each built on first use."""
        return tuple(self._started)

    def needs(self, part: Component[Any]) -> bool:
        """Whether a part this root started is built from `part` (or is it): e.g. which AWS clients the function's
        requests will build."""
        return part in _needed(self.started)

    def get(self, component: Component[T]) -> T:
        with self._lock:  # uncontended in a Lambda (one request at a time); tests may provide from another thread
            if component not in self._built:
                self._built[component] = self._build(component)
            return cast(T, self._built[component])

    def provide(self, component: Component[T], value: T) -> Root:
        """Use `value` for `component` from now on (tests: an in-memory fake). Parts already built from the old one
        are dropped, to be built again from `value` when next asked for."""
        with self._lock:
            for built in [c for c in self._built if c not in self._provided and _needs(c, component)]:
                del self._built[built]
            self._built[component] = value
            self._provided.add(component)
        return self

    def _build(self, component: Component[T]) -> T:
        if component is ROOT:  # a part that builds others on demand (e.g. one service per aggregate it meets)
            return cast(T, self)
        if isinstance(component, Setting):
            return cast(T, self._read(component))
        return component.build(*(self.get(need) for need in component.needs))

    def _read(self, setting: Setting[T]) -> T:
        raw = self.environment.get(setting.variable)
        if raw is None:
            raise SettingsError(f"{setting.variable} is not set")
        try:
            return setting.parse(raw)
        except ValueError as error:
            raise SettingsError(f"{setting.variable} {error}") from None


ROOT: Component[Root] = Component("root", Root)


def _needs(component: Component[Any], part: Component[Any]) -> bool:
    """Whether `component` is built from `part`, directly or not."""
    return any(need is part or _needs(need, part) for need in component.needs)


def _needed(components: tuple[Component[Any], ...]) -> Iterator[Component[Any]]:
    """`components` and every part they are built from, each once, breadth first."""
    seen: set[Component[Any]] = set()
    pending = list(components)
    while pending:
        component = pending.pop(0)
        if component in seen:
            continue
        seen.add(component)
        yield component
        pending.extend(component.needs)
