"""The on-disk layout and the Arrow schemas of the market-data format (docs/market-data.md).

::

    DIR/manifest.json                 format version, what is complete (resuming)
    DIR/instruments.parquet           one row per symbol
    DIR/daily/<SYMBOL>.parquet        one row per trading day, oldest first
    DIR/minute/<YYYY-MM-DD>.parquet   all symbols' minute candles of one day,
                                      sorted by (start, symbol)

One file per day (not per symbol and day) because the readers want a day across symbols in
time order: one file open and one sort-free read per day.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa

FORMAT = "stock-manager-market-data"
FORMAT_VERSION = 1
TIMEZONE = "Asia/Seoul"
SYMBOL_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

PRICES = ("open", "high", "low", "close")

INSTRUMENTS = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("market", pa.string(), nullable=False),  # KOSPI | KOSDAQ
        pa.field("instrument_type", pa.string(), nullable=False),  # stock | etf | etn
        pa.field("leverage", pa.int32(), nullable=False),
    ]
)

DAILY = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        *(pa.field(name, pa.int64(), nullable=False) for name in PRICES),
        pa.field("volume", pa.int64(), nullable=False),  # shares
        pa.field("turnover", pa.int64(), nullable=False),  # won
        pa.field("base_price", pa.int64(), nullable=False),  # 기준가, won
    ]
)

MINUTE = pa.schema(
    [
        pa.field("symbol", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("start", pa.timestamp("ms", tz=TIMEZONE), nullable=False),  # Parquet has no "s"
        *(pa.field(name, pa.int64(), nullable=False) for name in PRICES),
        pa.field("volume", pa.int64(), nullable=False),
        pa.field("turnover", pa.int64(), nullable=False),  # 0 when KIS gives none per minute
    ]
)


class MarketDataError(Exception):
    """A market-data directory is missing, of another format version, or holds bad rows."""


def check_symbol(symbol: str) -> str:
    """A KRX short code (6 characters; ETN 7 with a ``Q`` prefix), safe as a file name."""
    if not 1 <= len(symbol) <= 12 or not set(symbol) <= SYMBOL_CHARS:
        raise MarketDataError(f"not a KRX symbol: {symbol!r}")
    return symbol


def instruments_path(root: Path) -> Path:
    return root / "instruments.parquet"


def daily_path(root: Path, symbol: str) -> Path:
    return root / "daily" / f"{check_symbol(symbol)}.parquet"


def minute_path(root: Path, day: date) -> Path:
    return root / "minute" / f"{day.isoformat()}.parquet"


def manifest_path(root: Path) -> Path:
    return root / "manifest.json"


def replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write(tmp_path)`` then rename over ``target``: readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
