"""The backtest's :class:`~stock_manager.ports.CandleSource` over a market-data directory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

from stock_manager.adapters.market_data.reader import MarketDataReader
from stock_manager.domain.candles import Candle, RecordedInstrument, UnknownBasePrice
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import DEFAULT_LIMIT_RATE, PriceLimits, price_limits


class ParquetCandles:
    """Reads one day at a time (``minute/<day>.parquet``); limits from each instrument's
    recorded base price and leverage (``RecordedInstrument.limits``)."""

    def __init__(self, root: Path, symbols: Sequence[str] | None = None) -> None:
        self.reader = MarketDataReader(root)
        self.symbols = list(symbols) if symbols else None

    @cached_property
    def _instruments(self) -> dict[str, RecordedInstrument]:
        return self.reader.instruments()

    def trading_days(self) -> Sequence[date]:
        return self.reader.days()

    def minute_candles(self, day: date) -> Mapping[str, Sequence[Candle]]:
        by_symbol: dict[str, list[Candle]] = defaultdict(list)
        for candle in self.reader.minute_day(day, self.symbols).candles():
            by_symbol[candle.symbol].append(candle)
        return by_symbol

    def price_limits(self, day: date) -> Mapping[str, PriceLimits]:
        limits = {}
        for symbol, instrument in self._instruments.items():
            try:
                base = instrument.base_price(day)
            except UnknownBasePrice:
                continue  # the runner derives them from the previous close
            kind = InstrumentKind[instrument.instrument_type.name]  # its tick table, its tax
            rate = DEFAULT_LIMIT_RATE * instrument.leverage
            limits[symbol] = price_limits(base, rate, kind)
        return limits
