"""Domain errors: each names what was wrong, so callers never parse messages."""

from __future__ import annotations

from enum import Enum


class DomainError(Exception):
    """Base class for rule violations in the pure domain."""


class InvalidTransition(DomainError):
    """A state machine was asked to apply an event that its table does not allow."""

    def __init__(self, machine: str, state: Enum, event: Enum) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        super().__init__(f"{machine}: event {event.value} is not allowed in state {state.value}")


class InvalidPrice(DomainError):
    """A price is off the tick grid, outside the daily limits, or not positive."""


class InvalidQuantity(DomainError):
    """A quantity is not a positive whole number of shares, or exceeds what is held."""


class StaleWrite(DomainError):
    """A fenced write matched no row: the lease was lost or the state moved on. Stop."""


class DuplicateOrder(DomainError):
    """An order with this idempotency key is already in the ledger."""
