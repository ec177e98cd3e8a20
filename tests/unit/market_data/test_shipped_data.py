"""The data set shipped in tests/data/market is readable and is what its script generates."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from stock_manager.adapters.market_data import MarketDataReader
from tests.data import make_market_data


def test_the_shipped_data_reads() -> None:
    data = MarketDataReader(make_market_data.ROOT)
    assert len(data.symbols()) == make_market_data.SYMBOLS
    assert len(data.days()) == make_market_data.DAYS
    day = data.minute_day(data.days()[0])
    assert len(day) == make_market_data.SYMBOLS * 381
    assert day.start == sorted(day.start)


def test_the_shipped_data_is_what_the_script_makes(tmp_path: Path) -> None:
    make_market_data.make(tmp_path)
    shipped = sorted(p.relative_to(make_market_data.ROOT) for p in make_market_data.ROOT.rglob("*"))
    assert shipped == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for rel in shipped:
        if rel.suffix == ".parquet":
            assert pq.read_table(tmp_path / rel).equals(pq.read_table(make_market_data.ROOT / rel))
    manifest = "manifest.json"
    assert (tmp_path / manifest).read_text() == (make_market_data.ROOT / manifest).read_text()
