"""A transition table: the one way state machines are written in this project."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from stock_manager.domain.errors import InvalidTransition

S = TypeVar("S", bound=Enum)
E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class TransitionTable(Generic[S, E]):
    """Maps ``(state, event)`` to the next state; anything absent is forbidden."""

    name: str
    table: Mapping[tuple[S, E], S]

    def next(self, state: S, event: E) -> S:
        """Return the state after ``event``, or raise :class:`InvalidTransition`."""
        try:
            return self.table[(state, event)]
        except KeyError:
            raise InvalidTransition(self.name, state, event) from None

    def allows(self, state: S, event: E) -> bool:
        return (state, event) in self.table

    def __iter__(self) -> Iterator[tuple[S, E, S]]:
        for (state, event), target in self.table.items():
            yield state, event, target
