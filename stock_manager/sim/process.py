"""A seeded intraday price process per symbol, in log price, scaled per candle.

Each symbol draws a regime: trending up or down, mean-reverting, a quiet range that breaks
out with rising volume, or a plain random walk. Volatility and drift are set per candle, so
a compressed session (short ``candle_seconds``) still shows minute-like candles. Every draw
comes from the symbol's own generator: the n-th trade of a symbol is the same for a seed
whatever happens to other symbols or to the wall clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum


class Regime(Enum):
    TREND_UP = "trend_up"
    TREND_DOWN = "trend_down"
    MEAN_REVERT = "mean_revert"
    BREAKOUT = "breakout"
    RANDOM = "random"


REGIME_WEIGHTS = (
    (Regime.TREND_UP, 0.25),
    (Regime.TREND_DOWN, 0.15),
    (Regime.MEAN_REVERT, 0.30),
    (Regime.BREAKOUT, 0.20),
    (Regime.RANDOM, 0.10),
)
BREAKOUT_VOLUME = 4.0
QUIET = 0.6  # volatility scale of a range before its breakout
TREND_DECAY_CANDLES = 120.0  # trends fade: drift x exp(-candle / this), so a day stays sane


@dataclass(frozen=True, slots=True)
class ProcessParams:
    regime: Regime
    sigma_candle: float  # stdev of the log return over one candle
    drift_candle: float  # mean log return per candle
    kappa_candle: float  # share of the gap to the anchor closed per candle
    breakout_candle: int  # live candle index where the breakout starts (-1: none)
    breakout_candles: int
    breakout_return: float  # total log return of the breakout
    trade_qty: float  # typical shares per trade
    interval_factor: float  # this symbol's trade interval relative to --tick-interval


def _regime(rng: random.Random) -> Regime:
    roll, total = rng.random(), 0.0
    for regime, weight in REGIME_WEIGHTS:
        total += weight
        if roll < total:
            return regime
    return Regime.RANDOM


def draw_params(rng: random.Random, price: int) -> ProcessParams:
    regime = _regime(rng)
    sigma = rng.uniform(0.001, 0.003)
    drift = {Regime.TREND_UP: 1.0, Regime.TREND_DOWN: -1.0}.get(regime, 0.0)
    drift *= rng.uniform(0.15, 0.35) * sigma
    kappa = rng.uniform(0.08, 0.25) if regime is Regime.MEAN_REVERT else 0.0
    breakout = regime is Regime.BREAKOUT
    direction = 1.0 if rng.random() < 0.8 else -1.0
    return ProcessParams(
        regime=regime,
        sigma_candle=sigma,
        drift_candle=drift,
        kappa_candle=kappa,
        breakout_candle=rng.randint(4, 20) if breakout else -1,
        breakout_candles=rng.randint(3, 8),
        breakout_return=direction * rng.uniform(0.03, 0.07),
        trade_qty=max(1.0, rng.uniform(3e6, 2e7) / price),
        interval_factor=rng.uniform(0.6, 1.6),
    )


class PriceProcess:
    """Steps one symbol's log price trade by trade."""

    __slots__ = (
        "_breakout_step",
        "_drift",
        "_kappa",
        "_sigma",
        "anchor",
        "ceiling",
        "floor",
        "log_price",
        "params",
        "rng",
        "steps_per_candle",
    )

    def __init__(
        self,
        params: ProcessParams,
        rng: random.Random,
        price: int,
        steps_per_candle: float,
        floor: int,
        ceiling: int,
    ) -> None:
        self.params = params
        self.rng = rng
        self.log_price = math.log(price)
        self.anchor = self.log_price
        self.steps_per_candle = max(1.0, steps_per_candle)
        self.floor, self.ceiling = math.log(floor), math.log(ceiling)
        n = self.steps_per_candle
        self._sigma = params.sigma_candle / math.sqrt(n)
        self._drift = params.drift_candle / n
        self._kappa = params.kappa_candle / n
        self._breakout_step = params.breakout_return / (max(1, params.breakout_candles) * n)

    def _breakout_phase(self, trade_index: int) -> int:
        """-1 before the breakout, 0 during it, 1 after it (or when there is none)."""
        start = self.params.breakout_candle
        if start < 0:
            return 1
        candle = trade_index / self.steps_per_candle
        if candle < start:
            return -1
        return 0 if candle < start + self.params.breakout_candles else 1

    def step(self, trade_index: int) -> tuple[float, float]:
        """Advance one trade; return the new log price and a volume multiplier."""
        z = self.rng.gauss(0.0, 1.0)
        phase = self._breakout_phase(trade_index)
        sigma = self._sigma * (QUIET if phase < 0 else 1.0)
        drift = self._drift * math.exp(-trade_index / self.steps_per_candle / TREND_DECAY_CANDLES)
        move = drift + self._kappa * (self.anchor - self.log_price) + sigma * z
        volume = 1.0 + 0.5 * abs(z)
        if phase == 0:
            move += self._breakout_step
            volume *= BREAKOUT_VOLUME
        self.log_price = min(self.ceiling, max(self.floor, self.log_price + move))
        return self.log_price, volume

    def reset(self, price: int) -> None:
        """Continue from a forced price (the anchor follows, so reversion does not undo it)."""
        self.log_price = math.log(price)
        self.anchor = self.log_price

    def trade_qty(self, multiplier: float) -> int:
        return max(1, int(self.params.trade_qty * multiplier * self.rng.lognormvariate(0.0, 0.6)))
