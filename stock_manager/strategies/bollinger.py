"""Bollinger-band mean reversion: buy below the lower band, sell back at the middle."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import fmean, pstdev

from stock_manager.strategies.base import Holding, MarketView, Signal


@dataclass(frozen=True, slots=True)
class BollingerReversion:
    period: int = 20
    width: Decimal = Decimal("2")  # standard deviations to the bands
    name: str = "bollinger_reversion"

    def _bands(self, view: MarketView) -> tuple[Decimal, Decimal] | None:
        closes = [c.close for c in list(view.candles)[-self.period :]]
        if len(closes) < self.period:
            return None
        middle = Decimal(str(fmean(closes)))
        deviation = Decimal(str(pstdev(closes)))
        return middle, middle - self.width * deviation

    def should_buy(self, view: MarketView) -> Signal:
        bands = self._bands(view)
        if bands is None:
            return Signal.no(f"needs {self.period} candles")
        middle, lower = bands
        price = Decimal(view.quote.price)
        if price >= lower or middle <= lower:
            return Signal.no(f"{price} is not below the lower band {lower:.0f}")
        depth = min((lower - price) / (middle - lower) + Decimal("0.5"), Decimal(1))
        return Signal(
            True, depth.quantize(Decimal("0.01")), f"{price} is below the lower band {lower:.0f}"
        )

    def should_sell(self, view: MarketView, holding: Holding) -> Signal:
        bands = self._bands(view)
        if bands is None:
            return Signal.no()
        middle, _ = bands
        if view.quote.price >= middle:
            return Signal(True, Decimal("0.7"), f"back at the middle band {middle:.0f}")
        return Signal.no()
