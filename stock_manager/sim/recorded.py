"""A recorded day as the simulator's price source: minute candles replayed in compressed time.

Minute ``m`` of the recording (0 = its first minute, e.g. 09:00) is played during the
simulator's candle ``m``: from ``opens_at + m × candle_seconds`` for ``candle_seconds`` real
seconds. Inside a candle the trades follow a fixed path through the candle's four prices,
each held for a tenth of the candle so every one is traded even with a few trades per
candle::

    fraction  0 ─ 0.1   0.3 ─ 0.4   0.6 ─ 0.7   0.9 ─ 1
    price     open  ↘   first       second  ↘   close
                        extreme     extreme

A rising candle (close above open) visits its low first, a falling one its high
first — the usual assumption about a bar's path; a candle that closes at its open picks the
order from the seed (per symbol and minute), so a replay is the same on every run. Between
the held points prices move linearly, rounded to the nearest tick and kept inside the
candle. Each trade's size is the candle's volume shared over the trades expected in it, so
the simulator's candles reproduce the recorded open, high, low and close exactly and the
volume to within the rounding of one trade's share. Before the first minute the price is the
first open; after the last, the last close (so the closing call uncrosses at it).

The recorded minutes are given in memory (:class:`RecordedDay`); reading them from files is
the replay's job (``stock_manager.replay``), which keeps the simulator free of file formats.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, time

from stock_manager.sim.book import nearest_tick
from stock_manager.sim.universe import SymbolSpec

# (fraction of the candle, index into the candle's four-price path)
KNOTS: tuple[tuple[float, int], ...] = (
    (0.0, 0),
    (0.1, 0),
    (0.3, 1),
    (0.4, 1),
    (0.6, 2),
    (0.7, 2),
    (0.9, 3),
    (1.0, 3),
)
_FRACTIONS = [fraction for fraction, _ in KNOTS]


class RecordingError(ValueError):
    """A recorded candle or day cannot be replayed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class MinuteBar:
    """One recorded minute: prices in won, volume in shares."""

    open: int
    high: int
    low: int
    close: int
    volume: int

    def __post_init__(self) -> None:
        if not (self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high):
            raise RecordingError(f"inconsistent candle {self}")
        if self.low <= 0 or self.volume < 0:
            raise RecordingError(f"non-positive price or negative volume in {self}")


@dataclass(frozen=True, slots=True)
class RecordedSymbol:
    """One symbol's recorded day: ``bars[m]`` is minute ``m`` (gaps filled by the reader)."""

    spec: SymbolSpec
    bars: tuple[MinuteBar, ...]

    def __post_init__(self) -> None:
        if not self.bars:
            raise RecordingError(f"{self.spec.code}: no candles")


@dataclass(frozen=True, slots=True)
class RecordedDay:
    """What the simulator replays: the day, the clock time of minute 0, and the symbols."""

    day: date
    first_minute: time
    symbols: tuple[RecordedSymbol, ...]

    def __post_init__(self) -> None:
        if not self.symbols:
            raise RecordingError(f"{self.day}: no symbols to replay")

    @property
    def minutes(self) -> int:
        """Length of the replayed session in recorded minutes."""
        return max(len(symbol.bars) for symbol in self.symbols)


def low_first(bar: MinuteBar, seed: int, code: str, minute: int) -> bool:
    """Whether the path visits the low before the high (see the module docstring)."""
    if bar.close != bar.open:
        return bar.close > bar.open
    return random.Random(f"{seed}:{code}:{minute}:path").random() < 0.5


def path_price(bar: MinuteBar, fraction: float, low_is_first: bool) -> int:
    """The price ``fraction`` (0 ≤ f ≤ 1) of the way through ``bar`` on its path."""
    points = (
        (bar.open, bar.low, bar.high, bar.close)
        if low_is_first
        else (bar.open, bar.high, bar.low, bar.close)
    )
    fraction = min(1.0, max(0.0, fraction))
    right = min(max(bisect.bisect_right(_FRACTIONS, fraction), 1), len(KNOTS) - 1)
    (f0, i0), (f1, i1) = KNOTS[right - 1], KNOTS[right]
    share = (fraction - f0) / (f1 - f0) if f1 > f0 else 0.0
    price = points[i0] + (points[i1] - points[i0]) * share
    return min(bar.high, max(bar.low, nearest_tick(price)))


class RecordedPrices:
    """A :class:`stock_manager.sim.prices.PriceSource` over one symbol's recorded minutes.

    ``opens_ts`` is the POSIX time minute 0 starts at, ``candle_seconds`` the real seconds
    one recorded minute lasts and ``trades_per_candle`` how many trades the exchange plays
    in one (to share the volume)."""

    __slots__ = ("_opens_ts", "bars", "candle_seconds", "code", "rng", "seed", "trades_per_candle")

    def __init__(
        self,
        recorded: RecordedSymbol,
        seed: int,
        opens_ts: float,
        candle_seconds: float,
        trades_per_candle: float,
    ) -> None:
        if candle_seconds <= 0 or trades_per_candle <= 0:
            raise RecordingError("candle_seconds and trades_per_candle must be positive")
        self.bars = recorded.bars
        self.code = recorded.spec.code
        self.seed = seed
        self._opens_ts = opens_ts
        self.candle_seconds = candle_seconds
        self.trades_per_candle = trades_per_candle
        self.rng = random.Random(f"{seed}:{self.code}:recorded")

    def minute(self, ts: float) -> tuple[int, float]:
        """The recorded minute playing at ``ts`` and the fraction of it gone."""
        elapsed = (ts - self._opens_ts) / self.candle_seconds
        whole = int(elapsed // 1)
        return whole, elapsed - whole

    def price_at(self, ts: float) -> int:
        minute, fraction = self.minute(ts)
        if minute < 0:
            return self.bars[0].open
        if minute >= len(self.bars):
            return self.bars[-1].close
        bar = self.bars[minute]
        return path_price(bar, fraction, low_first(bar, self.seed, self.code, minute))

    def step(self, index: int, ts: float) -> tuple[int, float]:
        return self.price_at(ts), 1.0

    def trade_qty(self, multiplier: float, ts: float) -> int:
        minute, _ = self.minute(ts)
        bar = self.bars[min(max(minute, 0), len(self.bars) - 1)]
        return max(1, round(bar.volume / self.trades_per_candle * multiplier))

    def reset(self, price: int) -> None:
        """A forced price does not change the recording: the next trade is on its path."""
