"""Read a market-data directory (docs/market-data.md): what the backtest and replay consume.

The hot path is :meth:`MarketDataReader.minute_day`: one Parquet read per day, columns
turned into Python lists in bulk, rows already in (start, symbol) order; build
:class:`Candle` objects only when wanted (:meth:`DayCandles.candles`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stock_manager.adapters.market_data.columns import DayCandles
from stock_manager.adapters.market_data.manifest import Manifest
from stock_manager.adapters.market_data.schema import (
    DAILY,
    INSTRUMENTS,
    MINUTE,
    MarketDataError,
    daily_path,
    instruments_path,
    minute_path,
)
from stock_manager.domain.candles import Candle, CandleInterval, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket


class MarketDataReader:
    """Reads ``root``; raises :class:`MarketDataError` if it is not this format's version."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise MarketDataError(f"{self.root}: no such market-data directory")
        self.manifest = Manifest.load(self.root)

    def symbols(self) -> list[str]:
        """Symbols with an instrument row, sorted."""
        path = instruments_path(self.root)
        if not path.exists():
            return []
        return sorted(pq.read_table(path, columns=["symbol"]).column("symbol").to_pylist())

    def days(self) -> list[date]:
        """Days with a minute file, oldest first."""
        folder = self.root / "minute"
        if not folder.is_dir():
            return []
        return sorted(date.fromisoformat(p.stem) for p in folder.glob("????-??-??.parquet"))

    def instruments(self) -> dict[str, RecordedInstrument]:
        """Every instrument with the base prices of its daily file, by symbol."""
        path = instruments_path(self.root)
        if not path.exists():
            return {}
        found: dict[str, RecordedInstrument] = {}
        for row in _read(path, INSTRUMENTS).to_pylist():
            try:
                market = ListingMarket(row["market"])
                kind = InstrumentType(row["instrument_type"])
            except ValueError as exc:
                raise MarketDataError(f"{path}: {row['symbol']}: {exc}") from exc
            found[row["symbol"]] = RecordedInstrument(
                symbol=row["symbol"],
                name=row["name"],
                market=market,
                instrument_type=kind,
                base_prices=self.base_prices(row["symbol"]),
                leverage=row["leverage"],
            )
        return found

    def base_prices(self, symbol: str) -> dict[date, int]:
        """Each recorded day's base price (기준가) in won; empty without a daily file."""
        path = daily_path(self.root, symbol)
        if not path.exists():
            return {}
        table = _read(path, DAILY, ["date", "base_price"])
        return dict(
            zip(
                table.column("date").to_pylist(),
                table.column("base_price").to_pylist(),
                strict=True,
            )
        )

    def daily(self, symbol: str) -> list[Candle]:
        """``symbol``'s daily candles, oldest first (start = the day at 00:00 KST)."""
        path = daily_path(self.root, symbol)
        if not path.exists():
            return []
        cols = _read(path, DAILY).to_pydict()
        return [
            Candle(
                symbol,
                datetime(d.year, d.month, d.day, tzinfo=KST),
                o,
                h,
                lo,
                c,
                v,
                t,
                CandleInterval.DAY,
            )
            for d, o, h, lo, c, v, t in zip(
                cols["date"],
                cols["open"],
                cols["high"],
                cols["low"],
                cols["close"],
                cols["volume"],
                cols["turnover"],
                strict=True,
            )
        ]

    def minute_day(self, day: date, symbols: Collection[str] | None = None) -> DayCandles:
        """``day``'s minute candles of ``symbols`` (all if None) in (start, symbol) order."""
        path = minute_path(self.root, day)
        if not path.exists():
            return DayCandles(day, [], [], [], [], [], [], [], [])
        table = _read(path, MINUTE)
        names = table.column("symbol").combine_chunks()
        if symbols is not None:
            table = table.filter(pc.is_in(names.cast(pa.string()), pa.array(sorted(symbols))))
            names = table.column("symbol").combine_chunks()
        return _columns(day, table, names)

    def minute_candles(self, day: date, symbols: Collection[str] | None = None) -> Iterator[Candle]:
        """``day``'s minute candles as objects, merged across symbols in time order."""
        return self.minute_day(day, symbols).candles()


def _read(path: Path, schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
    try:
        table = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise MarketDataError(f"{path}: unreadable ({exc})") from exc
    wanted = schema if columns is None else pa.schema([schema.field(c) for c in columns])
    if table.schema.names != wanted.names:
        raise MarketDataError(f"{path}: columns {table.schema.names}, expected {wanted.names}")
    if table.schema.equals(wanted):
        return table
    try:  # another writer's narrower types, say; the values must still fit
        return table.cast(wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise MarketDataError(f"{path}: schema {table.schema} does not cast to {wanted}") from exc


def _columns(day: date, table: pa.Table, names: pa.Array) -> DayCandles:
    if isinstance(names, pa.DictionaryArray):
        lookup = names.dictionary.to_pylist()
        symbol = [lookup[i] for i in names.indices.to_numpy(zero_copy_only=False).tolist()]
    else:
        symbol = names.to_pylist()
    millis = table.column("start").cast(pa.int64()).to_numpy().tolist()
    moments = {ms: datetime.fromtimestamp(ms // 1000, KST) for ms in set(millis)}

    def ints(name: str) -> list[int]:
        values: list[int] = table.column(name).to_numpy().tolist()
        return values

    return DayCandles(
        day,
        symbol,
        [moments[ms] for ms in millis],
        ints("open"),
        ints("high"),
        ints("low"),
        ints("close"),
        ints("volume"),
        ints("turnover"),
    )
