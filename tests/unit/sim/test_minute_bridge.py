"""A past day's minute candles add up to that day's daily bar (what a download records)."""

from __future__ import annotations

import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from stock_manager.domain.krx import is_on_tick
from stock_manager.sim.history import DailyBar, daily_bars, minute_bridge


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), prev=st.integers(1_000, 900_000))
def test_minutes_add_up_to_the_daily_bar(seed: int, prev: int) -> None:
    bar = daily_bars(random.Random(seed), prev, 50_000, date(2026, 3, 9), 1)[0]
    candles = minute_bridge(random.Random(seed), bar, 381)
    assert len(candles) == 381
    assert (candles[0].open, candles[-1].close) == (bar.open, bar.close)
    assert max(c.high for c in candles) == bar.high
    assert min(c.low for c in candles) == bar.low
    assert sum(c.volume for c in candles) == bar.volume
    for c in candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert all(is_on_tick(p) for p in (c.open, c.high, c.low, c.close))
        assert c.volume >= 0


def test_a_flat_day_is_flat() -> None:
    bar = DailyBar(date(2026, 3, 9), 1_000, 1_000, 1_000, 1_000, 10, 10_000)
    candles = minute_bridge(random.Random(1), bar, 381)
    assert {(c.open, c.high, c.low, c.close) for c in candles} == {(1_000,) * 4}
    assert sum(c.volume for c in candles) == 10
