"""Every allowed transition of each table, and every forbidden pair, by parametrization."""

from __future__ import annotations

import itertools
from enum import Enum

import pytest

from stock_manager.domain.errors import InvalidTransition
from stock_manager.domain.fsm import TransitionTable
from stock_manager.domain.market import MARKET_TRANSITIONS, MarketEvent, MarketState
from stock_manager.domain.orders import ORDER_TRANSITIONS, OrderEvent, OrderStatus
from stock_manager.domain.trade import SYMBOL_TRANSITIONS, SymbolEvent, SymbolState

TABLES: list[tuple[TransitionTable, type[Enum], type[Enum]]] = [  # type: ignore[type-arg]
    (SYMBOL_TRANSITIONS, SymbolState, SymbolEvent),
    (ORDER_TRANSITIONS, OrderStatus, OrderEvent),
    (MARKET_TRANSITIONS, MarketState, MarketEvent),
]

ALLOWED = [
    pytest.param(table, state, event, target, id=f"{table.name}:{state.value}-{event.value}")
    for table, _, _ in TABLES
    for state, event, target in table
]
FORBIDDEN = [
    pytest.param(table, state, event, id=f"{table.name}:{state.value}-{event.value}")
    for table, states, events in TABLES
    for state, event in itertools.product(states, events)
    if not table.allows(state, event)
]


@pytest.mark.parametrize(("table", "state", "event", "target"), ALLOWED)
def test_allowed_transition_reaches_its_target(table, state, event, target) -> None:  # type: ignore[no-untyped-def]
    assert table.next(state, event) is target


@pytest.mark.parametrize(("table", "state", "event"), FORBIDDEN)
def test_forbidden_transition_raises_a_named_error(table, state, event) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition) as caught:
        table.next(state, event)
    assert caught.value.state is state
    assert caught.value.event is event
    assert table.name in str(caught.value)


def test_architecture_lifecycle_paths_exist() -> None:
    s, e = SymbolState, SymbolEvent
    path = [e.BUY_SIGNAL, e.BUY_FILLED, e.EXIT_SIGNAL, e.SELL_FILLED]
    state = s.FLAT
    for event in path:
        state = SYMBOL_TRANSITIONS.next(state, event)
    assert state is s.FLAT
    assert SYMBOL_TRANSITIONS.next(s.ENTERING, e.BUY_ENDED_PARTIAL) is s.HOLDING
    assert SYMBOL_TRANSITIONS.next(s.EXITING, e.SELL_ENDED_PARTIAL) is s.HOLDING
    assert SYMBOL_TRANSITIONS.next(s.QUARANTINED, e.EXIT_SIGNAL) is s.EXITING


def test_quarantined_symbol_cannot_enter() -> None:
    assert not SYMBOL_TRANSITIONS.allows(SymbolState.QUARANTINED, SymbolEvent.BUY_SIGNAL)


def test_unknown_order_is_resolved_only_by_adoption_or_proof_of_absence() -> None:
    exits = {event for state, event, _ in ORDER_TRANSITIONS if state is OrderStatus.UNKNOWN}
    assert exits == {OrderEvent.ACCEPTED, OrderEvent.REJECTED}


def test_stopped_market_blocks_entries_but_not_exits() -> None:
    assert not MarketState.STOPPED.allows_entries
    assert MarketState.STOPPED.allows_exits
    assert MarketState.TRADING.allows_entries
