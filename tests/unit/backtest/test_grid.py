"""The grid's pure parts: combinations, the walk-forward split, scores and rank agreement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stock_manager.backtest.grid import (
    GridRow,
    combinations,
    parse_grid,
    rank_correlation,
    score,
    split,
)
from stock_manager.config import ConfigError

DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(10)]


def test_every_combination_once() -> None:
    grid = parse_grid(["stop_loss_pct=1,2", "MOMENTUM_LOOKBACK=10,20,30"])
    combos = combinations(grid)
    assert len(combos) == 6
    assert combos[0] == {"STOP_LOSS_PCT": "1", "MOMENTUM_LOOKBACK": "10"}
    assert len({tuple(c.items()) for c in combos}) == 6


def test_the_split_puts_the_earlier_days_in_sample() -> None:
    inside, outside = split(DAYS, 0.7)
    assert (inside, outside) == (DAYS[:7], DAYS[7:])
    assert split(DAYS, 1.0) == (DAYS, [])
    assert split(DAYS[:1], 0.5) == (DAYS[:1], [])
    with pytest.raises(ConfigError):
        split(DAYS, 0)


def test_scores_put_better_higher_whatever_the_metric() -> None:
    assert score({"max_drawdown": 100}, "max_drawdown") > score(
        {"max_drawdown": 200}, "max_drawdown"
    )
    assert score({"net_pnl": 5}, "net_pnl") > score({"net_pnl": -5}, "net_pnl")
    assert score({"profit_factor": None, "trades": 3}, "profit_factor") == float("inf")
    assert score({"profit_factor": None, "trades": 0}, "profit_factor") == float("-inf")


def row(inside: int, outside: int) -> GridRow:
    return GridRow({}, {"net_pnl": inside}, {"net_pnl": outside})


def test_rank_correlation_says_whether_the_ranking_held_out_of_sample() -> None:
    held = [row(3, 30), row(2, 20), row(1, 10)]
    reversed_ = [row(3, 10), row(2, 20), row(1, 30)]
    assert rank_correlation(held, "net_pnl") == 1
    assert rank_correlation(reversed_, "net_pnl") == -1
    assert rank_correlation([row(1, 1)], "net_pnl") is None


def test_kept_candles_read_each_day_once_up_to_the_limit() -> None:
    from stock_manager.backtest.grid import KeptCandles
    from stock_manager.backtest.runner import MemoryCandles
    from tests.unit.backtest.series import DAY, series

    reads: list[date] = []

    class Counting(MemoryCandles):
        def minute_candles(self, day: date):  # type: ignore[no-untyped-def]
            reads.append(day)
            return super().minute_candles(day)

    source = Counting({DAY: series()})
    kept = KeptCandles(source)
    assert kept.minute_candles(DAY) == kept.minute_candles(DAY) == series()
    assert reads == [DAY]
    tight = KeptCandles(source, limit=10)  # the day holds more: read again each time
    tight.minute_candles(DAY)
    tight.minute_candles(DAY)
    assert reads == [DAY, DAY, DAY]
