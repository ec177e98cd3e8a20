"""Candles and the instrument facts a backtest needs beside them.

A :class:`Candle` is one interval of trading in one symbol: integer won prices, a share
volume, and the aware KST moment its interval starts (a minute candle's minute; a daily
candle's day at 00:00 KST). It is the type the strategies read (``MarketView.candles``), the
KIS adapter returns and the market-data files hold (``docs/market-data.md``), so a strategy
sees the same values live, in a backtest and in a replay.

A :class:`RecordedInstrument` is what KRX rules need to know about a recorded symbol: its
market (KOSPI / KOSDAQ: tax), its type (stock / ETF / ETN: tax and fees) and each day's base
price (기준가), from which the day's price limits follow (``shared/reference/krx.md`` §3). It
is not the broker's :class:`~stock_manager.domain.instruments.Instrument` (what a symbol is
now, for orders and costs): it is what the market-data files hold beside the candles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from stock_manager.domain.errors import DomainError
from stock_manager.domain.instruments import ListingMarket
from stock_manager.domain.krx import DEFAULT_LIMIT_RATE, PriceLimits, price_limits


class InvalidCandle(DomainError):
    """A candle's prices are not positive, its low/high do not bound it, or its volume < 0."""


class UnknownBasePrice(DomainError):
    """An instrument has no base price for the day asked about (no daily candle that day)."""


class CandleInterval(Enum):
    MINUTE = "minute"
    DAY = "day"


class InstrumentType(Enum):
    STOCK = "stock"
    ETF = "etf"
    ETN = "etn"


@dataclass(frozen=True, slots=True)
class Candle:
    """One interval of trading; prices in won, ``volume`` in shares, ``turnover`` in won.

    ``start`` is aware (KST): the candle's minute, or the day at 00:00 for a daily candle.
    Construction does not validate (the hot paths build millions); :func:`check_candle` does.
    """

    symbol: str
    start: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int
    turnover: int = 0  # 거래대금; 0 where the source does not give it
    interval: CandleInterval = CandleInterval.MINUTE


def check_candle(candle: Candle) -> Candle:
    """Return ``candle`` unchanged, or raise :class:`InvalidCandle` saying what is wrong."""
    if candle.start.tzinfo is None or candle.start.utcoffset() is None:
        raise InvalidCandle(f"{candle.symbol}: start {candle.start.isoformat()} is naive")
    if min(candle.open, candle.high, candle.low, candle.close) <= 0:
        raise InvalidCandle(f"{candle.symbol} {candle.start.isoformat()}: a price is not positive")
    if candle.low > min(candle.open, candle.close):
        raise InvalidCandle(f"{candle.symbol} {candle.start.isoformat()}: low above open/close")
    if max(candle.open, candle.close) > candle.high:
        raise InvalidCandle(f"{candle.symbol} {candle.start.isoformat()}: high below open/close")
    if candle.volume < 0 or candle.turnover < 0:
        raise InvalidCandle(f"{candle.symbol} {candle.start.isoformat()}: negative volume")
    return candle


@dataclass(frozen=True, slots=True)
class RecordedInstrument:
    """A listed symbol and its base price (기준가, won) for each recorded day.

    ``leverage`` multiplies the ±30 % limit width for leveraged ETFs (2x → ±60 %, krx.md §3);
    1 for everything else.
    """

    symbol: str
    name: str
    market: ListingMarket
    instrument_type: InstrumentType
    base_prices: Mapping[date, int] = field(default_factory=dict)
    leverage: int = 1

    def base_price(self, day: date) -> int:
        """The day's base price in won; :class:`UnknownBasePrice` if none was recorded."""
        try:
            return self.base_prices[day]
        except KeyError:
            raise UnknownBasePrice(f"{self.symbol}: no base price for {day.isoformat()}") from None

    def limits(self, day: date) -> PriceLimits:
        """The day's upper/lower price limits (상한가/하한가) from its base price."""
        return price_limits(self.base_price(day), DEFAULT_LIMIT_RATE * Decimal(self.leverage))
