"""The :class:`~stock_manager.ports.CandleStore` on a market-data directory.

Each save writes its data file first and the manifest after, so an interruption between
the two leaves work to redo, never a gap the manifest hides (docs/market-data.md). One
writer per directory: opening a store removes the temporary files a killed one left.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from stock_manager.adapters.market_data.manifest import Manifest
from stock_manager.adapters.market_data.schema import daily_path
from stock_manager.adapters.market_data.writer import MarketDataWriter
from stock_manager.domain.candles import Candle, RecordedInstrument


class MarketDataStore:
    def __init__(self, root: Path, source: dict[str, str] | None = None) -> None:
        self.writer = MarketDataWriter(root)
        self.root = self.writer.root
        self.manifest = Manifest.load(self.root)
        self.manifest.source.update(source or {})
        for stale in self.root.rglob(".*.tmp"):  # a killed writer's half-written file
            stale.unlink(missing_ok=True)

    def has_instrument(self, symbol: str) -> bool:
        return symbol in self.manifest.instruments

    def daily_covers(self, symbol: str, start: date, end: date) -> bool:
        return self.manifest.daily_covers(symbol, start, end)

    def trading_days(self, symbol: str, start: date, end: date) -> list[date]:
        path = daily_path(self.root, symbol)
        if not path.exists():
            return []
        days: list[date] = pq.read_table(path, columns=["date"]).column("date").to_pylist()
        return [d for d in days if start <= d <= end]

    def minute_done(self, day: date, symbol: str) -> bool:
        return self.manifest.minute_done(day, symbol)

    def save_instrument(self, instrument: RecordedInstrument) -> None:
        self.writer.write_instruments([instrument])
        self.manifest.instruments.add(instrument.symbol)
        self.manifest.save(self.root)

    def save_daily(
        self, symbol: str, start: date, end: date, candles: list[Candle], bases: dict[date, int]
    ) -> None:
        self.writer.write_daily(symbol, candles, bases)
        old = self.manifest.daily.get(symbol)
        # Widen the recorded range only where it joins the new one; else keep the new one.
        if old is not None and old[0] <= end and start <= old[1]:
            start, end = min(start, old[0]), max(end, old[1])
        self.manifest.daily[symbol] = (start, end)
        self.manifest.save(self.root)

    def save_minute(self, day: date, symbol: str, candles: list[Candle], final: bool) -> None:
        self.writer.write_minute_day(day, candles)
        if final:
            self.manifest.minute.setdefault(day, set()).add(symbol)
            self.manifest.save(self.root)
