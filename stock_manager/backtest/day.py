"""One recorded day through the backtest, for setting beside a replay of the same day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from stock_manager.backtest.engine import run_day
from stock_manager.backtest.results import DayResult
from stock_manager.backtest.runner import NoData, day_limits
from stock_manager.backtest.settings import Sessions, build


def backtest_day(
    data: Path, day: date, values: Mapping[str, str] | None = None, cash: int | None = None
) -> DayResult:
    """``day`` of the market-data directory ``data`` with settings ``values`` (the keys of
    ``stock-manager backtest --set``); ``.trades`` are its round trips, ``.fills`` every
    execution. ``NoData`` if the day is not recorded."""
    from stock_manager.adapters.market_data.candle_source import ParquetCandles

    source = ParquetCandles(data)
    days = list(source.trading_days())
    if day not in days:
        raise NoData(f"{day.isoformat()} is not recorded in {data}")
    settings, config = build(dict(values or {}))
    index = days.index(day)
    previous = source.minute_candles(days[index - 1]) if index else {}
    candles = source.minute_candles(day)
    limits = day_limits(candles, source.price_limits(day), previous)
    return run_day(config, Sessions(settings)(day), candles, limits, cash)
