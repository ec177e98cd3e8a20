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
