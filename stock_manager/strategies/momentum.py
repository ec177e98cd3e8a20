"""Momentum breakout: buy a new N-minute high made on rising volume."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stock_manager.strategies.base import Holding, MarketView, Signal


@dataclass(frozen=True, slots=True)
class MomentumBreakout:
    lookback: int = 20  # minutes whose high must be broken
    volume_factor: Decimal = Decimal("1.5")  # the breakout minute's volume vs the average
    name: str = "momentum_breakout"

    def should_buy(self, view: MarketView) -> Signal:
        candles = list(view.candles)
        if len(candles) < self.lookback + 1:
            return Signal.no(f"needs {self.lookback + 1} candles, has {len(candles)}")
        window, current = candles[-self.lookback - 1 : -1], candles[-1]
        high = max(c.high for c in window)
        price = view.quote.price
        if price <= high:
            return Signal.no(f"{price:,} has not broken the {self.lookback}-minute high {high:,}")
        average_volume = Decimal(sum(c.volume for c in window)) / len(window)
        if average_volume and current.volume < average_volume * self.volume_factor:
            return Signal.no("the breakout lacks volume")
        strength = min((Decimal(price) / high - 1) * 50 + Decimal("0.5"), Decimal(1))
        return Signal(
            True,
            strength.quantize(Decimal("0.01")),
            f"{price:,} broke the {self.lookback}-minute high {high:,} on volume",
        )

    def should_sell(self, view: MarketView, holding: Holding) -> Signal:
        candles = list(view.candles)
        if len(candles) < self.lookback:
            return Signal.no()
        low = min(c.low for c in candles[-self.lookback : -1] or candles)
        if view.quote.price < low:
            return Signal(
                True, Decimal("0.8"), f"fell below the {self.lookback}-minute low {low:,}"
            )
        return Signal.no()
