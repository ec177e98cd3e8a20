"""``kis candles`` against the simulator over loopback: pages, base prices, and a download
interrupted mid-way then resumed ending with the same files as an uninterrupted one."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from stock_manager.adapters.kis.history import KisCandleHistory
from stock_manager.adapters.market_data import MarketDataReader
from stock_manager.adapters.market_data.store import MarketDataStore
from stock_manager.cli.main import cli
from stock_manager.domain.candles import Candle, InstrumentType
from stock_manager.domain.instruments import ListingMarket
from stock_manager.services.recording import CandleRecorder
from tests.integration.kis.conftest import Client, Connect, StartSim


class Interrupted(Exception):
    pass


class Counting:
    """The real history, counting calls, failing on the ``fail_at``-th minute fetch."""

    def __init__(self, history: KisCandleHistory, fail_at: int = 0) -> None:
        self.inner, self.fail_at = history, fail_at
        self.calls: dict[str, int] = {"instrument": 0, "daily": 0, "minute": 0}

    def today(self) -> date:
        return self.inner.today()

    def instrument(self, symbol: str):  # type: ignore[no-untyped-def]
        self.calls["instrument"] += 1
        return self.inner.instrument(symbol)

    def daily_history(self, symbol: str, start: date, end: date):  # type: ignore[no-untyped-def]
        self.calls["daily"] += 1
        return self.inner.daily_history(symbol, start, end)

    def minute_history(self, symbol: str, day: date) -> list[Candle]:
        self.calls["minute"] += 1
        if self.calls["minute"] == self.fail_at:
            raise Interrupted
        return self.inner.minute_history(symbol, day)


@pytest.fixture
def client(start_sim: StartSim, connect: Connect) -> Client:
    return connect(start_sim(symbols=30))


def _recent_days(client: Client, symbol: str, count: int) -> list[date]:
    today = client.rest.today()
    bars = client.rest.daily_candles(symbol, today - timedelta(days=20), today)
    return [c.start.date() for c in bars if c.start.date() < today][-count:]


def _contents(root: Path) -> dict[str, object]:
    tables = {str(p.relative_to(root)): pq.read_table(p) for p in sorted(root.rglob("*.parquet"))}
    manifest = json.loads((root / "manifest.json").read_text())
    return {"tables": tables, "manifest": {k: v for k, v in manifest.items() if k != "source"}}


def test_interrupted_and_resumed_equals_uninterrupted(client: Client, tmp_path: Path) -> None:
    symbols = ["005930", "247540"]  # a KOSPI and a KOSDAQ listing of the simulator
    days = _recent_days(client, symbols[0], 3)
    history = KisCandleHistory(client.rest)

    whole = CandleRecorder(history, MarketDataStore(tmp_path / "whole"))
    report = whole.record(symbols, days[0], days[-1])
    assert (report.fetched, report.skipped) == (2 + 2 + 2 * 3, 0)

    broken = Counting(history, fail_at=4)
    with pytest.raises(Interrupted):
        CandleRecorder(broken, MarketDataStore(tmp_path / "resumed")).record(
            symbols, days[0], days[-1]
        )
    resumed = Counting(history)
    again = CandleRecorder(resumed, MarketDataStore(tmp_path / "resumed")).record(
        symbols, days[0], days[-1]
    )
    # Only the unfinished work is fetched again: 3 of 6 symbol-days were complete.
    assert resumed.calls == {"instrument": 0, "daily": 0, "minute": 3}
    assert (again.fetched, again.skipped) == (3, 2 + 2 + 3)
    assert _contents(tmp_path / "resumed") == _contents(tmp_path / "whole")

    final = Counting(history)
    CandleRecorder(final, MarketDataStore(tmp_path / "whole")).record(symbols, days[0], days[-1])
    assert final.calls == {"instrument": 0, "daily": 0, "minute": 0}


def test_recorded_minutes_page_back_to_the_open_and_add_up_to_the_day(
    client: Client, tmp_path: Path
) -> None:
    symbols = ["005930", "247540"]
    days = _recent_days(client, symbols[0], 2)
    CandleRecorder(KisCandleHistory(client.rest), MarketDataStore(tmp_path)).record(
        symbols, days[0], days[-1]
    )
    data = MarketDataReader(tmp_path)
    assert data.days() == days and data.symbols() == symbols
    instruments = data.instruments()
    assert instruments["005930"].market is ListingMarket.KOSPI
    assert instruments["247540"].market is ListingMarket.KOSDAQ
    assert instruments["005930"].instrument_type is InstrumentType.STOCK
    assert instruments["005930"].name == "삼성전자"
    for symbol in symbols:
        daily = {c.start.date(): c for c in data.daily(symbol)}
        for before, after in itertools.pairwise(days):
            assert instruments[symbol].base_price(after) == daily[before].close
        for day in days:
            minutes = list(data.minute_candles(day, {symbol}))
            assert len(minutes) == 381  # four pages of at most 120, back to 09:00
            assert minutes[0].start.strftime("%H:%M") == "09:00"
            assert minutes[-1].start.strftime("%H:%M") == "15:30"
            bar = daily[day]
            assert (minutes[0].open, minutes[-1].close) == (bar.open, bar.close)
            assert max(c.high for c in minutes) == bar.high
            assert sum(c.volume for c in minutes) == bar.volume


def test_the_command_downloads_and_a_rerun_fetches_nothing(
    start_sim: StartSim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = start_sim(symbols=30)
    monkeypatch.setenv("KIS_REST_URL", server.rest_url)
    monkeypatch.setenv("KIS_WS_URL", server.ws_url)
    out = tmp_path / "data"
    args = ["kis", "candles", "005930", "--out", str(out), "--json"]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["fetched"] > 2 and report["skipped"] == 0 and not report["warnings"]
    assert MarketDataReader(out).days()  # the last 30 days' trading days
    second = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert json.loads(second.output)["fetched"] == 0
    text = CliRunner().invoke(cli, args[:-1], catch_exceptions=False)
    assert text.exit_code == 0 and "fetched 0" in text.output


def test_paper_records_daily_and_warns_once_about_minutes(
    start_sim: StartSim, connect: Connect, tmp_path: Path
) -> None:
    client = connect(start_sim(env="paper"))
    days = _recent_days(client, "005930", 2)
    report = CandleRecorder(KisCandleHistory(client.rest), MarketDataStore(tmp_path)).record(
        ["005930"], days[0], days[-1]
    )
    assert len(report.warnings) == 2  # market/type unknown, and no past-day minutes
    data = MarketDataReader(tmp_path)
    assert len(data.daily("005930")) == 2 and data.days() == []


@pytest.mark.slow
def test_a_killed_download_resumes_to_the_same_files(
    start_sim: StartSim, connect: Connect, tmp_path: Path
) -> None:
    """SIGKILL the command once its first symbol-day is recorded, rerun it, compare."""
    server = start_sim(symbols=30)
    client = connect(server)
    symbols = ["005930", "247540"]
    days = _recent_days(client, symbols[0], 4)
    CandleRecorder(KisCandleHistory(client.rest), MarketDataStore(tmp_path / "whole")).record(
        symbols, days[0], days[-1]
    )
    # Slow replies leave seconds between the first recorded symbol-day and the last.
    client.admin("faults", {"latency_ms": 150})
    out = tmp_path / "killed"
    env = {
        **os.environ,
        "KIS_REST_URL": server.rest_url,
        "KIS_WS_URL": server.ws_url,
        "LOCK_BACKEND": "sql",
    }
    command = [sys.executable, "-m", "stock_manager", "kis", "candles", *symbols]
    command += ["--from", str(days[0]), "--to", str(days[-1]), "--out", str(out)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        _wait_for(lambda: _minute_days(out) >= 1, process)
        process.kill()
    finally:
        process.wait(timeout=30)
    assert _minute_days(out) < len(symbols) * len(days), "finished before it was killed"
    client.admin("faults", {"reset": True})
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "already complete" in again.stdout
    assert list(out.rglob("*.tmp")) == []
    assert _contents(out) == _contents(tmp_path / "whole")


def _minute_days(root: Path) -> int:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return 0
    return sum(len(symbols) for symbols in manifest.get("minute", {}).values())


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "no symbol-day recorded within 60 s"
        time.sleep(0.02)


def test_daily_history_pages_past_100_days_with_each_base_price(client: Client) -> None:
    today = client.rest.today()
    candles, bases = KisCandleHistory(client.rest).daily_history(
        "005930", today - timedelta(days=190), today - timedelta(days=1)
    )
    assert len(candles) > 100  # two pages of the daily chart
    days = [c.start.date() for c in candles]
    assert days == sorted(set(days)) and set(bases) == set(days)
    for before, after in itertools.pairwise(candles):
        assert bases[after.start.date()] == before.close
