"""A recorded day read from Parquet into the simulator's and the backtest's shapes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from stock_manager.adapters.market_data import MarketDataWriter
from stock_manager.demo.plan import DemoOptions, sim_args
from stock_manager.domain.candles import Candle
from stock_manager.domain.clock import KST
from stock_manager.replay.day import ReplayDataError, load_day, plan_replay
from stock_manager.sim.cli import build_config, sim
from tests.replay_day import BARS, DAY, MINUTES, write_replay_day


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "md"
    write_replay_day(root)
    return root


def test_the_whole_recorded_window_with_base_prices_and_names(data: Path) -> None:
    day = load_day(data, DAY)
    assert day.opens_at == datetime(2026, 3, 2, 9, 0, tzinfo=KST) and day.minutes == MINUTES
    assert sorted(day.candles) == sorted(BARS)
    assert day.base_price("900102") == 20_000
    recorded = day.recorded()
    specs = {s.spec.code: s.spec for s in recorded.symbols}
    assert specs["900101"].name == "리플레이상승" and specs["900101"].prev_close == 10_000
    assert all(len(s.bars) == MINUTES for s in recorded.symbols)


def test_a_window_picks_its_minutes(data: Path) -> None:
    day = load_day(data, DAY, time(9, 10), time(9, 20))
    assert day.minutes == 10
    assert all(c.start.time() >= time(9, 10) for rows in day.candles.values() for c in rows)


def test_gaps_become_flat_candles_at_the_previous_close_and_the_closing_call_is_left_out(
    tmp_path: Path,
) -> None:
    root = tmp_path / "gappy"
    at = datetime(2026, 3, 3, 15, 17, tzinfo=KST)
    rows = [
        Candle("900201", at, 1_000, 1_010, 995, 1_005, 50),
        Candle("900201", at + timedelta(minutes=2), 1_005, 1_005, 1_000, 1_000, 20),
        Candle("900201", datetime(2026, 3, 3, 15, 30, tzinfo=KST), 1_001, 1_001, 1_001, 1_001, 900),
    ]
    MarketDataWriter(root).write_minute_day(date(2026, 3, 3), rows)
    day = load_day(root, date(2026, 3, 3))
    assert day.closes_at.time() == time(15, 20)  # the 15:30 uncross is not replayed
    bars = day.recorded().symbols[0].bars
    assert [(b.close, b.volume) for b in bars] == [(1_005, 50), (1_005, 0), (1_000, 20)]


def test_a_day_that_is_not_recorded_or_an_empty_window_is_refused(data: Path) -> None:
    with pytest.raises(ReplayDataError, match="recorded days: 2026-03-02"):
        load_day(data, date(2026, 3, 3))
    with pytest.raises(ReplayDataError, match="no candles"):
        load_day(data, DAY, time(11, 0), time(12, 0))


def test_the_plan_takes_the_latest_day_and_spreads_it_over_the_demo_minutes(data: Path) -> None:
    plan = plan_replay(data, None, session_minutes=1.0)
    assert plan.day == DAY and plan.minutes == MINUTES
    assert plan.candle_seconds == 2.4  # 60 s / 25 recorded minutes


def test_the_simulator_options_load_the_day_as_its_universe_and_session(data: Path) -> None:
    args = ["--replay-data", str(data), "--replay-date", "2026-03-02", "--candle-seconds", "2"]
    options = dict(sim.make_context("sim", args).params)
    options.pop("verbose")
    config = build_config(options)
    assert config.replay is not None and len(config.replay.symbols) == 3
    assert config.session_minutes == pytest.approx(MINUTES * 2 / 60)
    assert config.history_candles == 0


def test_the_simulator_refuses_a_replay_without_its_date(data: Path) -> None:
    result = CliRunner().invoke(sim, ["--replay-data", str(data)])
    assert result.exit_code == 2 and "--replay-date" in result.output


def test_demo_with_data_replays_the_recorded_day_instead_of_the_random_walk(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stock_manager.cli import demo as demo_cli

    seen: list[DemoOptions] = []

    def run(self: demo_cli.Demo) -> int:
        seen.append(self.o)
        return 0

    monkeypatch.setattr(demo_cli.Demo, "run", run)
    result = CliRunner().invoke(demo_cli.demo, ["--data", str(data), "--minutes", "1"])
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.replay is not None and options.replay.day == DAY
    assert "--replay-data" in sim_args(options) and "--symbols" not in sim_args(options)
    refused = CliRunner().invoke(demo_cli.demo, ["--date", "2026-03-02"])
    assert refused.exit_code == 2 and "only with --data" in refused.output
