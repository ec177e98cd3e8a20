"""A backtest over many days: the days in order, the cash carried from one to the next."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from stock_manager.backtest.engine import BacktestConfig, run_day
from stock_manager.backtest.results import DayResult
from stock_manager.domain.broker import Candle
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.session import TradingSession, regular_session
from stock_manager.ports import CandleSource

SessionOf = Callable[[date], TradingSession]


class NoData(ValueError):
    """The data holds no candles in the range asked for."""


@dataclass(frozen=True, slots=True)
class MemoryCandles:
    """A :class:`CandleSource` over candles in memory (tests, generated data)."""

    days: Mapping[date, Mapping[str, Sequence[Candle]]]
    limits: Mapping[date, Mapping[str, PriceLimits]] | None = None

    def trading_days(self) -> Sequence[date]:
        return sorted(self.days)

    def minute_candles(self, day: date) -> Mapping[str, Sequence[Candle]]:
        return self.days[day]

    def price_limits(self, day: date) -> Mapping[str, PriceLimits]:
        return (self.limits or {}).get(day, {})


def select_days(
    source: CandleSource, start: date | None = None, end: date | None = None
) -> list[date]:
    days = [d for d in source.trading_days() if (start is None or d >= start)]
    days = [d for d in days if end is None or d <= end]
    if not days:
        raise NoData(f"no recorded days between {start or 'the first'} and {end or 'the last'}")
    return days


def run_days(
    config: BacktestConfig,
    source: CandleSource,
    days: Sequence[date],
    session_of: SessionOf = regular_session,
) -> list[DayResult]:
    """Each day in order, the cash carried over (see :func:`day_limits` for price limits)."""
    results: list[DayResult] = []
    cash = config.initial_cash
    previous: Mapping[str, Sequence[Candle]] = {}
    for day in days:
        candles = source.minute_candles(day)
        limits = day_limits(candles, source.price_limits(day), previous)
        results.append(run_day(config, session_of(day), candles, limits, cash))
        cash, previous = results[-1].end_cash, candles
    return results


def day_limits(
    candles: Mapping[str, Sequence[Candle]],
    recorded: Mapping[str, PriceLimits],
    previous: Mapping[str, Sequence[Candle]],
) -> dict[str, PriceLimits | int]:
    """Each symbol's price limits: the recorded ones (from its 기준가), else from the
    previous recorded day's last close, else from its first open of the day."""
    limits: dict[str, PriceLimits | int] = {}
    for symbol, rows in candles.items():
        if not rows:
            continue
        before = previous.get(symbol)
        limits[symbol] = recorded.get(symbol) or (before[-1].close if before else rows[0].open)
    return limits
