"""The strategy protocol: given what the market shows, should we buy, or sell what we hold?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from stock_manager.domain.broker import Candle, Quote


@dataclass(frozen=True, slots=True)
class MarketView:
    """What a strategy may look at for one symbol: the quote and recent minute candles."""

    quote: Quote
    candles: Sequence[Candle]  # oldest first, the current (unfinished) minute last

    @property
    def symbol(self) -> str:
        return self.quote.symbol


@dataclass(frozen=True, slots=True)
class Holding:
    """A position as a strategy sees it."""

    quantity: int
    average_price: Decimal


@dataclass(frozen=True, slots=True)
class Signal:
    act: bool
    confidence: Decimal = Decimal(0)  # 0..1
    reason: str = ""

    @classmethod
    def no(cls, reason: str = "") -> Signal:
        return cls(False, Decimal(0), reason)


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def should_buy(self, view: MarketView) -> Signal: ...

    def should_sell(self, view: MarketView, holding: Holding) -> Signal: ...
