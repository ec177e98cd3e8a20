"""The synthetic data set is deterministic and obeys KRX ticks, limits and the session."""

from __future__ import annotations

import itertools
from datetime import time
from pathlib import Path

import pyarrow.parquet as pq

from stock_manager.adapters.market_data import MarketDataReader
from stock_manager.adapters.market_data.synthetic import generate
from stock_manager.domain.krx import is_on_tick


def test_the_same_arguments_give_the_same_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", 3, 2, seed=5)
    generate(tmp_path / "b", 3, 2, seed=5)
    generate(tmp_path / "c", 3, 2, seed=6)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files) == 1 + 3 + 2
    for rel in files:
        assert pq.read_table(tmp_path / "a" / rel).equals(pq.read_table(tmp_path / "b" / rel))
    day = sorted((tmp_path / "a" / "minute").iterdir())[0].name
    a = pq.read_table(tmp_path / "a" / "minute" / day)
    assert not a.equals(pq.read_table(tmp_path / "c" / "minute" / day))


def test_candles_are_on_tick_inside_the_limits_and_add_up_to_the_daily(tmp_path: Path) -> None:
    manifest = generate(tmp_path, 4, 3)
    reader = MarketDataReader(tmp_path)
    assert reader.manifest == manifest
    instruments = reader.instruments()
    assert len(reader.days()) == 3
    for day in reader.days():
        cols = reader.minute_day(day)
        assert len(cols) == 4 * 381
        assert cols.start[0].time() == time(9, 0) and cols.start[-1].time() == time(15, 30)
        for symbol, daily in ((s, reader.daily(s)) for s in reader.symbols()):
            limits = instruments[symbol].limits(day)
            mine = [c for c in cols.candles() if c.symbol == symbol]
            prices = [p for c in mine for p in (c.open, c.high, c.low, c.close)]
            assert all(is_on_tick(p) and limits.contains(p) for p in prices)
            bar = next(b for b in daily if b.start.date() == day)
            assert (bar.open, bar.close, bar.high, bar.low) == (
                mine[0].open,
                mine[-1].close,
                max(c.high for c in mine),
                min(c.low for c in mine),
            )
            assert bar.volume == sum(c.volume for c in mine)


def test_each_day_is_based_on_the_previous_close(tmp_path: Path) -> None:
    generate(tmp_path, 2, 3)
    reader = MarketDataReader(tmp_path)
    for symbol, instrument in reader.instruments().items():
        daily = reader.daily(symbol)
        for before, after in itertools.pairwise(daily):
            assert instrument.base_price(after.start.date()) == before.close
