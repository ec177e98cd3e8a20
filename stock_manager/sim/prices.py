"""Where a simulated symbol's trade prices come from: the seeded random walk or a recording.

``SymbolMarket`` asks its source for each trade's price and size and leaves everything else
(candles, the book, matching, the closing call) to the exchange, so a recorded day goes
through the same matching engine as the random walk. Sources:

- :class:`RandomWalk` — the regime-driven process of ``stock_manager.sim.process``.
- :class:`stock_manager.sim.recorded.RecordedPrices` — a recorded day's minute candles,
  compressed in time (``--replay-data``/``--replay-date``).
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from stock_manager.domain.krx import PriceLimits
from stock_manager.sim.book import to_tick
from stock_manager.sim.process import PriceProcess


class PriceSource(Protocol):
    """The next trade of one symbol. ``ts`` is the trade's POSIX time, ``index`` its number
    (1 for the first trade of the day); prices are won on the KRX tick grid."""

    rng: random.Random

    def step(self, index: int, ts: float) -> tuple[int, float]:
        """The trade's price and a volume multiplier (1.0 for an ordinary trade)."""
        ...

    def trade_qty(self, multiplier: float, ts: float) -> int:
        """Shares in the trade (at least 1)."""
        ...

    def reset(self, price: int) -> None:
        """A price was forced through the admin API; continue from it if the source can."""
        ...


class RandomWalk:
    """The seeded regime process (the simulator's default source)."""

    __slots__ = ("limits", "process", "rng")

    def __init__(self, process: PriceProcess, limits: PriceLimits) -> None:
        self.process = process
        self.limits = limits
        self.rng = process.rng

    def step(self, index: int, ts: float) -> tuple[int, float]:
        log_price, multiplier = self.process.step(index)
        return to_tick(math.exp(log_price), self.limits), multiplier

    def trade_qty(self, multiplier: float, ts: float) -> int:
        return self.process.trade_qty(multiplier)

    def reset(self, price: int) -> None:
        self.process.reset(price)
