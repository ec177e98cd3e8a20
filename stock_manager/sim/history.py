"""History a strategy can read at once: daily bars before today, candles before the start.

Daily bars are generated backwards from the previous close, so today's base price is fixed
by the seed whatever the history length. Intraday candles before the simulator starts are
generated forwards from the day's open at candle granularity (four sub-steps each), cheap
enough for 200 symbols at start-up.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from stock_manager.domain.krx import PriceLimits
from stock_manager.sim.book import nearest_tick, to_tick
from stock_manager.sim.process import ProcessParams


@dataclass(frozen=True, slots=True)
class DailyBar:
    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int
    amount: int


@dataclass(frozen=True, slots=True)
class CandleBar:
    """A candle as generated, before it is placed on the clock."""

    open: int
    high: int
    low: int
    close: int
    volume: int


def business_days_before(day: date, count: int) -> list[date]:
    """The ``count`` weekdays before ``day``, oldest first (holidays are not skipped)."""
    days: list[date] = []
    cursor = day
    while len(days) < count:
        cursor -= timedelta(days=1)
        if cursor.weekday() < 5:
            days.append(cursor)
    return days[::-1]


def _tick(price: float) -> int:
    return nearest_tick(max(1.0, price))


def daily_bars(
    rng: random.Random, prev_close: int, prev_volume: int, today: date, count: int
) -> list[DailyBar]:
    """``count`` daily bars ending the business day before ``today``, oldest first."""
    sigma = rng.uniform(0.012, 0.03)
    drift = rng.uniform(-0.3, 0.3) * sigma
    bars: list[DailyBar] = []
    close = float(prev_close)
    volume = float(prev_volume)
    for day in reversed(business_days_before(today, count)):
        ret = rng.gauss(drift, sigma)
        open_ = close / math.exp(ret * rng.uniform(0.2, 0.9))
        high = max(open_, close) * math.exp(abs(rng.gauss(0.0, sigma / 2)))
        low = min(open_, close) / math.exp(abs(rng.gauss(0.0, sigma / 2)))
        vol = max(1, int(volume))
        typical = (high + low + close) / 3
        bars.append(
            DailyBar(
                day, _tick(open_), _tick(high), _tick(low), _tick(close), vol, int(vol * typical)
            )
        )
        close = close / math.exp(ret)
        volume = prev_volume * rng.lognormvariate(0.0, 0.35)
    bars.reverse()
    return bars


def intraday_backfill(
    rng: random.Random,
    params: ProcessParams,
    open_price: int,
    count: int,
    trades_per_candle: float,
    limits: PriceLimits,
) -> list[CandleBar]:
    """``count`` candles from ``open_price``, following the symbol's regime."""
    candles: list[CandleBar] = []
    log_price = math.log(open_price)
    anchor = log_price
    lo, hi = math.log(limits.lower), math.log(limits.upper)
    sub_sigma = params.sigma_candle / 2.0
    quiet = 0.6 if params.breakout_candle >= 0 else 1.0
    for _ in range(count):
        path = [log_price]
        for _ in range(4):
            move = params.drift_candle / 8 + params.kappa_candle / 4 * (anchor - log_price)
            log_price = min(hi, max(lo, log_price + move + quiet * sub_sigma * rng.gauss(0, 1)))
            path.append(log_price)
        prices = [to_tick(math.exp(point), limits) for point in path]
        volume = params.trade_qty * trades_per_candle * rng.lognormvariate(0.0, 0.4)
        candles.append(
            CandleBar(prices[0], max(prices), min(prices), prices[-1], max(1, int(volume)))
        )
    return candles


def minute_bridge(rng: random.Random, bar: DailyBar, count: int) -> list[CandleBar]:
    """``count`` minute candles that add up to ``bar``: its open first, its close last, its
    high and low reached, its volume split among them (a past day's minute chart).

    A random walk pinned to the open and the close, then stretched above the body (open to
    close) to reach the high and below it to reach the low; prices on the nearest tick.
    """
    steps = 2 * count  # two steps a candle: open -> middle -> close
    walk = [0.0]
    for _ in range(steps):
        walk.append(walk[-1] + rng.gauss(0.0, 1.0))
    span = max(bar.high - bar.low, 1) / (2 * math.sqrt(steps))
    points = [
        bar.open + (bar.close - bar.open) * i / steps + (w - walk[-1] * i / steps) * span
        for i, w in enumerate(walk)
    ]
    prices = [nearest_tick(p) for p in _stretch(points, bar)]
    prices[0], prices[-1] = bar.open, bar.close
    volumes = _split(rng, bar.volume, count)
    candles = []
    for k in range(count):
        part = prices[2 * k : 2 * k + 3]
        candles.append(CandleBar(part[0], max(part), min(part), part[-1], volumes[k]))
    return _with_extremes(rng, candles, bar)


def _stretch(points: list[float], bar: DailyBar) -> list[float]:
    """Map the walk's excursions above/below the body onto [body, high] and [low, body]."""
    top, bottom = max(bar.open, bar.close), min(bar.open, bar.close)
    most, least = max(points), min(points)
    up = (bar.high - top) / (most - top) if most > top else 0.0
    down = (bottom - bar.low) / (bottom - least) if least < bottom else 0.0
    return [
        top + (p - top) * up if p > top else bottom - (bottom - p) * down if p < bottom else p
        for p in points
    ]


def _with_extremes(rng: random.Random, candles: list[CandleBar], bar: DailyBar) -> list[CandleBar]:
    """Where the walk never left the body, a wick in some candle reaches the high/low."""
    if max(c.high for c in candles) < bar.high:
        k = rng.randrange(len(candles))
        c = candles[k]
        candles[k] = CandleBar(c.open, bar.high, c.low, c.close, c.volume)
    if min(c.low for c in candles) > bar.low:
        k = rng.randrange(len(candles))
        c = candles[k]
        candles[k] = CandleBar(c.open, c.high, bar.low, c.close, c.volume)
    return candles


def _split(rng: random.Random, total: int, count: int) -> list[int]:
    """``total`` shares over ``count`` minutes, heavier at the open and the close."""
    weights = [
        (1.0 + 2.0 * ((k - count / 2) / (count / 2)) ** 2) * rng.lognormvariate(0.0, 0.5)
        for k in range(count)
    ]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares
