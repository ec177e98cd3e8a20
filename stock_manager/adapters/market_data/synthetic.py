"""Deterministic synthetic market data in the documented format, for tests and benchmarks.

The same arguments give the same files: prices come from NumPy's PCG64 generator seeded
per (seed, symbol) (NumPy keeps its normal/lognormal streams stable in practice, not by
promise: the shipped test data is generated once and committed).
Each symbol walks in log price minute by minute, on the KRX tick grid and inside the day's
price limits; a day has the 380 continuous minutes 09:00-15:19 and the closing call's candle
at 15:30 (krx.md §1), volume heavier at the open and the close. A day's base price is the
previous close. Trading days are weekdays (holidays are not skipped).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from stock_manager.adapters.market_data.columns import DayCandles
from stock_manager.adapters.market_data.manifest import Manifest
from stock_manager.adapters.market_data.writer import MarketDataWriter
from stock_manager.domain.candles import Candle, CandleInterval, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket
from stock_manager.domain.krx import TICK_TABLE, PriceLimits, price_limits, round_to_tick

CONTINUOUS_MINUTES = 380  # 09:00 .. 15:19
CLOSING_CALL = time(15, 30)


@dataclass(frozen=True, slots=True)
class _Walk:
    """One symbol's random walk parameters."""

    sigma: float  # per-minute log-price standard deviation
    drift: float  # per-minute log-price drift
    shares: float  # typical shares per minute


def symbols_for(count: int) -> list[str]:
    """``count`` six-digit codes, not real listings (9xxxxx), the same every time."""
    return [f"9{n:05d}" for n in range(1, count + 1)]


def weekdays(first: date, count: int) -> list[date]:
    """``count`` weekdays from ``first`` (inclusive), oldest first."""
    days: list[date] = []
    cursor = first
    while len(days) < count:
        if cursor.weekday() < 5:
            days.append(cursor)
        cursor += timedelta(days=1)
    return days


def generate(
    root: Path,
    symbols: Sequence[str] | int = 3,
    days: Sequence[date] | int = 3,
    *,
    first_day: date = date(2026, 3, 2),
    seed: int = 17,
) -> Manifest:
    """Write instruments, daily and minute candles under ``root``; return its manifest.

    ``symbols``/``days`` are lists or counts (codes from :func:`symbols_for`, weekdays from
    ``first_day``). 30 symbols x 250 days (2.9 M minute candles) takes tens of seconds.
    """
    codes = symbols_for(symbols) if isinstance(symbols, int) else list(symbols)
    trading_days = weekdays(first_day, days) if isinstance(days, int) else sorted(days)
    writer = MarketDataWriter(root)
    rngs = {s: np.random.default_rng([seed, zlib.crc32(s.encode())]) for s in codes}
    walks = {s: _walk(rngs[s]) for s in codes}
    closes = {s: round_to_tick(int(rngs[s].uniform(3_000, 300_000))) for s in codes}
    daily: dict[str, list[tuple[Candle, int]]] = {s: [] for s in codes}
    manifest = Manifest(source={"generator": "synthetic", "seed": str(seed)})
    for day in trading_days:
        starts = _minutes(day)  # shared by the symbols: one set of datetime objects a day
        columns = [_day(rngs[s], walks[s], s, starts, closes[s]) for s in codes]
        for s, (_, bar) in zip(codes, columns, strict=True):
            daily[s].append((bar, closes[s]))
            closes[s] = bar.close
        writer.write_minute_columns(_merged(day, [cols for cols, _ in columns]))
        manifest.minute[day] = set(codes)
    writer.write_instruments(_instrument(n, s) for n, s in enumerate(codes))
    for s in codes:
        bars = [bar for bar, _ in daily[s]]
        bases = {bar.start.date(): base for bar, base in daily[s]}
        writer.write_daily(s, bars, bases)
        if trading_days:
            manifest.daily[s] = (trading_days[0], trading_days[-1])
    manifest.instruments = set(codes)
    manifest.save(root)
    return manifest


def _walk(rng: np.random.Generator) -> _Walk:
    sigma = float(rng.uniform(0.0008, 0.0025))
    drift = float(rng.uniform(-0.05, 0.05)) * sigma
    return _Walk(sigma, drift, float(rng.uniform(200, 5_000)))


def _instrument(n: int, symbol: str) -> RecordedInstrument:
    market = ListingMarket.KOSPI if n % 2 == 0 else ListingMarket.KOSDAQ
    kind = InstrumentType.ETF if n % 10 == 9 else InstrumentType.STOCK
    return RecordedInstrument(symbol, f"합성{symbol}", market, kind)


def _minutes(day: date) -> list[datetime]:
    opening = datetime.combine(day, time(9), tzinfo=KST)
    continuous = [opening + timedelta(minutes=m) for m in range(CONTINUOUS_MINUTES)]
    return [*continuous, datetime.combine(day, CLOSING_CALL, tzinfo=KST)]


_TICK_LOWERS = np.array([lower for lower, _ in TICK_TABLE], dtype=np.int64)
_TICKS = np.array([tick for _, tick in TICK_TABLE], dtype=np.int64)
SUB_STEPS = 3  # steps within a minute: they give the candle a high and a low


def _day(
    rng: np.random.Generator, walk: _Walk, symbol: str, starts: list[datetime], base: int
) -> tuple[DayCandles, Candle]:
    """One symbol's minute columns for the day of ``starts`` and its daily candle."""
    day = starts[0].date()
    n = len(starts)
    opening = math.log(base) + rng.normal(0.0, walk.sigma * 4)
    steps = rng.normal(walk.drift / SUB_STEPS, walk.sigma / math.sqrt(SUB_STEPS), (n, SUB_STEPS))
    path = opening + np.cumsum(steps.ravel()).reshape(n, SUB_STEPS)
    opens = np.concatenate([[opening], path[:-1, -1]])
    prices = _on_tick(np.exp(np.column_stack([opens, path])), price_limits(base))
    u_shape = 1.0 + 2.0 * ((np.arange(n) - n / 2) / (n / 2)) ** 2
    volume = np.maximum(1, (walk.shares * u_shape * rng.lognormal(0.0, 0.5, n)).astype(np.int64))
    close = prices[:, -1]
    cols = DayCandles(
        day,
        [symbol] * n,
        starts,
        prices[:, 0].tolist(),
        prices.max(axis=1).tolist(),
        prices.min(axis=1).tolist(),
        close.tolist(),
        volume.tolist(),
        (volume * close).tolist(),  # an estimate: KIS gives no turnover per minute
    )
    return cols, _daily_bar(symbol, day, cols)


def _on_tick(prices: NDArray[np.float64], limits: PriceLimits) -> NDArray[np.int64]:
    """Prices floored onto the tick grid and held inside the limits (a limit stops trading)."""
    whole = np.maximum(prices, 1.0).astype(np.int64)
    ticks = _TICKS[np.searchsorted(_TICK_LOWERS, whole, side="right") - 1]
    return np.clip(whole - whole % ticks, limits.lower, limits.upper)


def _daily_bar(symbol: str, day: date, cols: DayCandles) -> Candle:
    return Candle(
        symbol,
        datetime(day.year, day.month, day.day, tzinfo=KST),
        cols.open[0],
        max(cols.high),
        min(cols.low),
        cols.close[-1],
        sum(cols.volume),
        sum(cols.turnover),
        CandleInterval.DAY,
    )


def _merged(day: date, parts: list[DayCandles]) -> DayCandles:
    """All symbols' columns in one; the writer sorts them by (start, symbol)."""
    merged = DayCandles(day, [], [], [], [], [], [], [], [])
    for part in parts:
        for name in ("symbol", "start", "open", "high", "low", "close", "volume", "turnover"):
            getattr(merged, name).extend(getattr(part, name))
    return merged
