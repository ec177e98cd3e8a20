"""Recorded market data on disk: Parquet candles plus a JSON manifest (docs/market-data.md).

:class:`MarketDataReader` is what a backtest or a replay reads; :class:`MarketDataWriter` is
what the ``kis candles`` download and the synthetic generator write.
"""

from stock_manager.adapters.market_data.columns import DayCandles
from stock_manager.adapters.market_data.manifest import Manifest
from stock_manager.adapters.market_data.reader import MarketDataReader
from stock_manager.adapters.market_data.schema import FORMAT_VERSION, MarketDataError
from stock_manager.adapters.market_data.writer import MarketDataWriter

__all__ = [
    "FORMAT_VERSION",
    "DayCandles",
    "Manifest",
    "MarketDataError",
    "MarketDataReader",
    "MarketDataWriter",
]
