"""Fakes of the CandleHistory and CandleStore ports: days of flat candles, kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from stock_manager.domain.broker import BrokerError
from stock_manager.domain.candles import Candle, CandleInterval, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket


class NotOffered(BrokerError):
    code = "EGW02006"


@dataclass
class FakeHistory:
    """Weekdays trade; each symbol's price is 1,000 won; calls are counted."""

    today_is: date
    minutes_offered: bool = True
    instruments_known: bool = True
    calls: list[tuple[str, str, date | None]] = field(default_factory=list)

    def today(self) -> date:
        return self.today_is

    def instrument(self, symbol: str) -> RecordedInstrument | None:
        self.calls.append(("instrument", symbol, None))
        if not self.instruments_known:
            return None
        return RecordedInstrument(
            symbol, f"name {symbol}", ListingMarket.KOSDAQ, InstrumentType.ETF
        )

    def daily_history(
        self, symbol: str, start: date, end: date
    ) -> tuple[list[Candle], dict[date, int]]:
        self.calls.append(("daily", symbol, None))
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        trading = [d for d in days if d.weekday() < 5 and d <= self.today_is]
        candles = [
            Candle(
                symbol,
                datetime(d.year, d.month, d.day, tzinfo=KST),
                1_000,
                1_000,
                1_000,
                1_000,
                10,
                10_000,
                CandleInterval.DAY,
            )
            for d in trading
        ]
        return candles, dict.fromkeys(trading, 1_000)

    def minute_history(self, symbol: str, day: date) -> list[Candle]:
        self.calls.append(("minute", symbol, day))
        if not self.minutes_offered:
            raise NotOffered("not offered by KIS paper")
        start = datetime(day.year, day.month, day.day, 9, tzinfo=KST)
        return [
            Candle(symbol, start + timedelta(minutes=m), 1_000, 1_000, 1_000, 1_000, 1)
            for m in range(3)
        ]


@dataclass
class MemoryCandleStore:
    instruments: dict[str, RecordedInstrument] = field(default_factory=dict)
    daily: dict[str, list[Candle]] = field(default_factory=dict)
    spans: dict[str, tuple[date, date]] = field(default_factory=dict)
    minutes: dict[tuple[date, str], list[Candle]] = field(default_factory=dict)
    done: set[tuple[date, str]] = field(default_factory=set)

    def has_instrument(self, symbol: str) -> bool:
        return symbol in self.instruments

    def daily_covers(self, symbol: str, start: date, end: date) -> bool:
        span = self.spans.get(symbol)
        return span is not None and span[0] <= start and end <= span[1]

    def trading_days(self, symbol: str, start: date, end: date) -> list[date]:
        days = (c.start.date() for c in self.daily.get(symbol, []))
        return sorted(d for d in days if start <= d <= end)

    def minute_done(self, day: date, symbol: str) -> bool:
        return (day, symbol) in self.done

    def save_instrument(self, instrument: RecordedInstrument) -> None:
        self.instruments[instrument.symbol] = instrument

    def save_daily(
        self, symbol: str, start: date, end: date, candles: list[Candle], bases: dict[date, int]
    ) -> None:
        self.daily[symbol] = candles
        self.spans[symbol] = (start, end)

    def save_minute(self, day: date, symbol: str, candles: list[Candle], final: bool) -> None:
        self.minutes[(day, symbol)] = candles
        if final:
            self.done.add((day, symbol))
