"""Per-trade state starts fresh on every round trip (issue 13, item 3).

The fields are read from the model, so a field added to ``SymbolTrade`` is reset on a new
entry unless someone names it in ``SYMBOL_FIELDS`` (and so in this test) on purpose."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, get_type_hints

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.trade import (
    PER_TRADE_FIELDS,
    SYMBOL_FIELDS,
    SymbolEvent,
    SymbolState,
    SymbolTrade,
)

# What outlives a round trip: who the row is, where its state machine stands, and the
# position that follows from fills (zero whenever a new entry may start).
EXPECTED_SYMBOL_FIELDS = {"symbol", "state", "quantity", "cost", "fence", "version", "trade_seq"}
STALE_AT = datetime(2026, 11, 19, 9, 1, tzinfo=KST)


def stale_value(name: str) -> Any:
    """A value no fresh trade has, for a field of the given name, by its declared type."""
    hint = get_type_hints(SymbolTrade)[name]
    for kind, value in ((int, 987_654), (str, f"stale {name}"), (Decimal, Decimal("1.5"))):
        if hint is kind:
            return value
    if datetime in getattr(hint, "__args__", ()) or hint is datetime:
        return STALE_AT
    raise AssertionError(f"teach this test a stale value for {name}: {hint}")


def polluted_flat() -> SymbolTrade:
    """A FLAT symbol after a trade that touched every per-trade field."""
    return replace(
        SymbolTrade("005930", trade_seq=3, version=9, fence=4),
        **{name: stale_value(name) for name in PER_TRADE_FIELDS},
    )


def test_every_field_is_either_carried_or_per_trade() -> None:
    names = {f.name for f in fields(SymbolTrade)}
    assert set(SYMBOL_FIELDS) == EXPECTED_SYMBOL_FIELDS
    assert set(PER_TRADE_FIELDS) == names - EXPECTED_SYMBOL_FIELDS
    assert {"high_water", "entered_at", "strategy", "note", "last_price"} <= set(PER_TRADE_FIELDS)


@pytest.mark.parametrize("event", [SymbolEvent.BUY_SIGNAL])
def test_a_new_entry_resets_every_per_trade_field(event: SymbolEvent) -> None:
    before = polluted_flat()
    after = before.apply(event, trade_seq=4, strategy="second")
    fresh = SymbolTrade("005930")
    for name in PER_TRADE_FIELDS:
        expected = "second" if name == "strategy" else getattr(fresh, name)
        assert getattr(after, name) == expected, name
    assert (after.state, after.trade_seq, after.fence, after.version) == (
        SymbolState.ENTERING,
        4,
        4,
        9,
    )


def test_other_events_keep_the_trade() -> None:
    holding = replace(polluted_flat(), state=SymbolState.HOLDING, quantity=5, cost=50_000)
    after = holding.apply(SymbolEvent.EXIT_SIGNAL)
    for name in PER_TRADE_FIELDS:
        assert getattr(after, name) == getattr(holding, name), name
