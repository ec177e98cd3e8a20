"""The market-data format round-trips, merges, orders a day by time, and refuses bad input."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stock_manager.adapters.market_data import (
    Manifest,
    MarketDataError,
    MarketDataReader,
    MarketDataWriter,
)
from stock_manager.domain.candles import Candle, CandleInterval, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket

DAY = date(2026, 3, 2)
OPEN = datetime(2026, 3, 2, 9, 0, tzinfo=KST)


def minutes(symbol: str, count: int, price: int, offset: int = 0) -> list[Candle]:
    return [
        Candle(
            symbol,
            OPEN + timedelta(minutes=offset + i),
            price,
            price + 10,
            price - 5,
            price + i,
            100 + i,
        )
        for i in range(count)
    ]


def test_a_day_reads_back_merged_in_time_order(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path)
    writer.write_minute_day(DAY, minutes("000660", 3, 200_000))
    writer.write_minute_day(DAY, minutes("005930", 3, 70_000, offset=1))
    day = MarketDataReader(tmp_path).minute_day(DAY)
    assert [(c.start.strftime("%H%M"), c.symbol) for c in day.candles()] == [
        ("0900", "000660"),
        ("0901", "000660"),
        ("0901", "005930"),
        ("0902", "000660"),
        ("0902", "005930"),
        ("0903", "005930"),
    ]
    assert list(day.candles())[2] == minutes("005930", 1, 70_000, offset=1)[0]
    assert day.start[1].tzinfo is not None and day.start[1] is day.start[2]


def test_rewriting_a_symbol_replaces_only_its_rows(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path)
    writer.write_minute_day(DAY, minutes("000660", 3, 200_000) + minutes("005930", 3, 70_000))
    writer.write_minute_day(DAY, minutes("005930", 2, 71_000))
    reader = MarketDataReader(tmp_path)
    rows = list(reader.minute_candles(DAY))
    assert sorted((c.symbol, c.open) for c in rows) == sorted(
        [("000660", 200_000)] * 3 + [("005930", 71_000)] * 2
    )
    assert [c.symbol for c in reader.minute_candles(DAY, {"005930"})] == ["005930"] * 2
    assert reader.days() == [DAY]


def test_instruments_carry_the_daily_base_prices(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path)
    samsung = RecordedInstrument("005930", "삼성전자", ListingMarket.KOSPI, InstrumentType.STOCK)
    writer.write_instruments([samsung])
    writer.write_instruments(
        [RecordedInstrument("069500", "KODEX 200", ListingMarket.KOSPI, InstrumentType.ETF)]
    )
    daily = [
        Candle(
            "005930",
            datetime(2026, 3, d, tzinfo=KST),
            100,
            120,
            90,
            110,
            5,
            550,
            CandleInterval.DAY,
        )
        for d in (3, 2)
    ]
    writer.write_daily("005930", daily, {date(2026, 3, 2): 100, date(2026, 3, 3): 110})
    reader = MarketDataReader(tmp_path)
    assert reader.symbols() == ["005930", "069500"]
    found = reader.instruments()
    assert found["005930"].base_prices == {date(2026, 3, 2): 100, date(2026, 3, 3): 110}
    assert found["005930"].name == "삼성전자"
    assert found["069500"].instrument_type is InstrumentType.ETF
    assert reader.daily("005930") == sorted(daily, key=lambda c: c.start)


def test_bad_candles_and_stray_minutes_are_refused(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path)
    bad = Candle("005930", OPEN, 100, 90, 95, 100, 1)  # high below open
    with pytest.raises(MarketDataError, match="high below"):
        writer.write_minute_day(DAY, [bad])
    with pytest.raises(MarketDataError, match="not a minute"):
        writer.write_minute_day(date(2026, 3, 3), minutes("005930", 1, 100))
    with pytest.raises(MarketDataError, match="not a KRX symbol"):
        writer.write_minute_day(DAY, minutes("../x", 1, 100))
    assert not (tmp_path / "minute").exists()


def test_manifest_round_trips_and_refuses_another_version(tmp_path: Path) -> None:
    manifest = Manifest(
        instruments={"005930"},
        daily={"005930": (date(2026, 1, 2), date(2026, 3, 2))},
        minute={DAY: {"005930", "000660"}},
        source={"env": "sim"},
    )
    manifest.save(tmp_path)
    again = Manifest.load(tmp_path)
    assert again == manifest
    assert again.daily_covers("005930", date(2026, 2, 1), DAY)
    assert again.minute_done(DAY, "000660") and not again.minute_done(DAY, "035420")
    raw = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**raw, "version": 99}))
    with pytest.raises(MarketDataError, match="version 99"):
        MarketDataReader(tmp_path)


def test_a_file_of_another_schema_is_refused(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path)
    writer.write_minute_day(DAY, minutes("005930", 2, 100))
    path = tmp_path / "minute" / f"{DAY}.parquet"
    table = pq.read_table(path).drop_columns(["turnover"])
    pq.write_table(table, path)
    with pytest.raises(MarketDataError, match="columns"):
        MarketDataReader(tmp_path).minute_day(DAY)


def test_opening_a_store_removes_a_killed_writers_temporary_files(tmp_path: Path) -> None:
    from stock_manager.adapters.market_data.store import MarketDataStore

    MarketDataWriter(tmp_path).write_minute_day(DAY, minutes("005930", 2, 100))
    stale = tmp_path / "minute" / f".{DAY}.parquet.4242.tmp"
    stale.write_bytes(b"PAR1 half")
    MarketDataStore(tmp_path)
    assert not stale.exists() and MarketDataReader(tmp_path).days() == [DAY]
