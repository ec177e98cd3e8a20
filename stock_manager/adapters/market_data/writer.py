"""Write candles and instruments in the market-data format (docs/market-data.md).

Every write replaces one whole file atomically and merges with what the file already holds
(by symbol for instruments, by date for daily candles, by symbol for a minute day), so
writes can repeat or arrive in any order and the result is the same. Rows are checked
before anything is written: a bad candle raises :class:`MarketDataError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stock_manager.adapters.market_data.columns import DayCandles
from stock_manager.adapters.market_data.schema import (
    DAILY,
    INSTRUMENTS,
    MINUTE,
    MarketDataError,
    check_symbol,
    daily_path,
    instruments_path,
    minute_path,
    replace_atomically,
)
from stock_manager.domain.candles import Candle, InvalidCandle, RecordedInstrument, check_candle
from stock_manager.domain.clock import KST

COMPRESSION = "zstd"


def _write_table(target: Path, table: pa.Table) -> None:
    replace_atomically(
        target,
        lambda tmp: pq.write_table(table, tmp, compression=COMPRESSION, row_group_size=1 << 20),
    )


def _checked(candles: Iterable[Candle]) -> list[Candle]:
    try:
        return [check_candle(c) for c in candles]
    except InvalidCandle as exc:
        raise MarketDataError(str(exc)) from exc


class MarketDataWriter:
    """Writes under ``root`` (created if missing). Not for concurrent writers to one root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def write_instruments(self, instruments: Iterable[RecordedInstrument]) -> None:
        """Add or replace instrument rows by symbol (base prices live in the daily files)."""
        rows = {i.symbol: i for i in instruments}
        for symbol in rows:
            check_symbol(symbol)
        path = instruments_path(self.root)
        kept = pq.read_table(path).to_pylist() if path.exists() else []
        merged = {r["symbol"]: r for r in kept}
        for i in rows.values():
            merged[i.symbol] = {
                "symbol": i.symbol,
                "name": i.name,
                "market": i.market.value,
                "instrument_type": i.instrument_type.value,
                "leverage": i.leverage,
            }
        table = pa.Table.from_pylist([merged[s] for s in sorted(merged)], schema=INSTRUMENTS)
        _write_table(path, table)

    def write_daily(
        self, symbol: str, candles: Sequence[Candle], base_prices: Mapping[date, int]
    ) -> None:
        """Merge daily candles of ``symbol`` (by date) with each day's base price in won.

        A candle's day is its ``start`` in KST; a missing base price raises.
        """
        path = daily_path(self.root, symbol)
        merged = {r["date"]: r for r in pq.read_table(path).to_pylist()} if path.exists() else {}
        for c in _checked(candles):
            if c.symbol != symbol:
                raise MarketDataError(f"daily file of {symbol} given a candle of {c.symbol}")
            day = c.start.astimezone(KST).date()
            if day not in base_prices or base_prices[day] <= 0:
                raise MarketDataError(f"{symbol} {day}: no positive base price")
            merged[day] = {
                "date": day,
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "volume": c.volume,
                "turnover": c.turnover,
                "base_price": base_prices[day],
            }
        table = pa.Table.from_pylist([merged[d] for d in sorted(merged)], schema=DAILY)
        _write_table(path, table)

    def write_minute_day(self, day: date, candles: Iterable[Candle]) -> None:
        """Replace the given symbols' minute candles of ``day``; other symbols' rows stay.

        Every candle must start on ``day`` (KST) on a whole minute.
        """
        self.write_minute_columns(DayCandles.of(day, list(candles)))

    def write_minute_columns(self, columns: DayCandles) -> None:
        """:meth:`write_minute_day` for columns (the fast path for generated data)."""
        table = _minute_table(columns)
        _check_minutes(columns.day, table)
        path = minute_path(self.root, columns.day)
        if path.exists():
            kept = pq.read_table(path).cast(_PLAIN_MINUTE)
            replaced = pa.array(sorted(set(columns.symbol)), pa.string())
            table = pa.concat_tables(
                [kept.filter(pc.invert(pc.is_in(kept.column("symbol"), replaced))), table]
            )
        table = table.sort_by([("start", "ascending"), ("symbol", "ascending")])
        _write_table(path, _encoded(table))


# The minute schema with plain strings: what is merged and sorted before encoding.
_PLAIN_MINUTE = MINUTE.set(0, pa.field("symbol", pa.string(), nullable=False))


def _minute_table(cols: DayCandles) -> pa.Table:
    if any(moment.tzinfo is None for moment in cols.start):
        raise MarketDataError(f"{cols.day}: a candle start is naive")
    seen: dict[datetime, int] = {}  # a day has ~381 distinct minutes: hashing beats timestamp()
    millis = [
        seen[m] if m in seen else seen.setdefault(m, int(m.timestamp()) * 1000) for m in cols.start
    ]
    columns = {
        "symbol": pa.array(cols.symbol, pa.string()),
        "start": pa.array(millis, pa.int64()).cast(MINUTE.field("start").type),
        **{
            name: pa.array(getattr(cols, name), pa.int64())
            for name in ("open", "high", "low", "close", "volume", "turnover")
        },
    }
    return pa.Table.from_pydict(columns, schema=_PLAIN_MINUTE)


def _check_minutes(day: date, table: pa.Table) -> None:
    """Raise :class:`MarketDataError` naming the first bad row (rules: docs/market-data.md)."""
    for symbol in pc.unique(table.column("symbol")).to_pylist():
        check_symbol(symbol)
    col = table.column
    body_low = pc.min_element_wise(col("open"), col("close"))
    body_high = pc.max_element_wise(col("open"), col("close"))
    millis = col("start").cast(pa.int64())
    first = int(datetime(day.year, day.month, day.day, tzinfo=KST).timestamp()) * 1000
    rules = {
        "a price is not positive": pc.greater(col("low"), 0),
        "low above open/close": pc.less_equal(col("low"), body_low),
        "high below open/close": pc.greater_equal(col("high"), body_high),
        "negative volume or turnover": pc.and_(
            pc.greater_equal(col("volume"), 0), pc.greater_equal(col("turnover"), 0)
        ),
        f"not a minute of {day}": pc.and_(
            pc.equal(pc.divide(millis, 60_000), pc.divide(pc.add(millis, 59_999), 60_000)),
            pc.and_(pc.greater_equal(millis, first), pc.less(millis, first + 86_400_000)),
        ),
    }
    for what, ok in rules.items():
        if not pc.all(ok).as_py():
            row = pc.index(ok, False).as_py()
            symbol, start = col("symbol")[row].as_py(), col("start")[row].as_py()
            raise MarketDataError(f"{symbol} {start.isoformat()}: {what}")


def _encoded(table: pa.Table) -> pa.Table:
    """The file schema: the symbol column dictionary-encoded in one chunk."""
    symbol = table.column("symbol").combine_chunks().dictionary_encode()
    return table.combine_chunks().set_column(0, MINUTE.field("symbol"), symbol)
