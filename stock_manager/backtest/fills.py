"""The fill model: how the backtest assumes the exchange fills our orders (docs/backtest.md).

Candles carry no order book, so every assumption is explicit and a setting:

* A limit buy fills in a later candle whose low touches its price, at the better of the
  candle's open and the limit (a marketable limit meets the open); it lives
  ``limit_ttl_candles`` candles, then the rest is cancelled.
* A market-type sell (BEST, MARKET: exits and liquidation) fills at the next candle's open
  ``slippage_ticks`` ticks worse, never below the lower price limit.
* No order takes more than ``volume_share`` of a candle's volume; the rest waits for the
  next candle (partial fills).
* The ask a scan sees is ``spread_ticks`` above the candle's close (no quotes in candles).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from stock_manager.domain.broker import Candle
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import PriceLimits, Rounding, round_to_tick, ticks_away
from stock_manager.domain.orders import Side


class FillModelError(ValueError):
    """A fill-model setting out of range."""


@dataclass(frozen=True, slots=True)
class FillModel:
    slippage_ticks: int = 1
    volume_share: Decimal = Decimal("0.1")
    limit_ttl_candles: int = 1
    spread_ticks: int = 1

    def __post_init__(self) -> None:
        if self.slippage_ticks < 0 or self.spread_ticks < 0:
            raise FillModelError("slippage_ticks and spread_ticks must be >= 0")
        if not Decimal(0) < self.volume_share <= 1:
            raise FillModelError(f"volume_share must be in (0, 1], got {self.volume_share}")
        if self.limit_ttl_candles < 1:
            raise FillModelError("limit_ttl_candles must be >= 1")

    def describe(self) -> str:
        """The assumptions in one sentence, for the output and the summary."""
        return (
            f"entries: limit at the close + {self.spread_ticks} tick(s), filled when a later "
            f"candle's low touches it, at min(open, limit), cancelled after "
            f"{self.limit_ttl_candles} candle(s); exits: the next open - {self.slippage_ticks} "
            f"tick(s); at most {float(self.volume_share * 100):g} % of a candle's volume per order"
        )

    def ask(self, close: int, limits: PriceLimits) -> int:
        """The ask assumed at a candle's close."""
        return min(_ask(close, self.spread_ticks, limits.kind), limits.upper)

    def capacity(self, candle: Candle) -> int:
        """The most shares one order may take from ``candle``."""
        return int(candle.volume * self.volume_share)

    def price(self, side: Side, limit: int, candle: Candle, limits: PriceLimits) -> int | None:
        """The price an order fills at in ``candle``, or ``None`` if it does not fill.

        ``limit`` 0 means a market-type order."""
        if limit:
            touched = candle.low <= limit if side is Side.BUY else candle.high >= limit
            if not touched:
                return None
            return min(candle.open, limit) if side is Side.BUY else max(candle.open, limit)
        return self.market_price(side, candle.open, limits)

    def market_price(self, side: Side, reference: int, limits: PriceLimits) -> int:
        """A market-type order's price: ``slippage_ticks`` worse than ``reference``."""
        steps = self.slippage_ticks if side is Side.BUY else -self.slippage_ticks
        price = ticks_away(round_to_tick(reference, kind=limits.kind), steps, limits.kind)
        return min(max(price, limits.lower), limits.upper)


@lru_cache(maxsize=65_536)
def _ask(close: int, spread_ticks: int, kind: InstrumentKind) -> int:
    return ticks_away(round_to_tick(close, Rounding.UP, kind), spread_ticks, kind)
