"""``stock-manager backtest`` end to end on a small generated data set (files on disk)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stock_manager.adapters.market_data.synthetic import generate
from stock_manager.cli.main import cli

FILES = ("trades.csv", "days.csv", "strategies.csv", "summary.json", "equity.png")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("market-data")
    generate(root, 6, 6, seed=5)
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["backtest", *args])
    return result.exit_code, result.output


def test_a_run_writes_every_file_and_the_summary_matches_the_trades(
    data: Path, tmp_path: Path
) -> None:
    code, out = run("--data", str(data), "--out", str(tmp_path / "a"))
    assert code == 0, out
    assert all((tmp_path / "a" / name).stat().st_size > 0 for name in FILES)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    with (tmp_path / "a" / "trades.csv").open() as handle:
        trades = list(csv.DictReader(handle))
    overall = summary["overall"]
    assert overall["trades"] == len(trades) > 0
    assert overall["net_pnl"] == sum(int(t["pnl"]) for t in trades)
    assert overall["final_cash"] - overall["initial_cash"] == overall["net_pnl"]
    assert overall["days"] == 6 and overall["candles"] == 6 * 6 * 381
    assert sum(d["net_pnl"] for d in summary["days"]) == overall["net_pnl"]
    assert {s["strategy"] for s in summary["strategies"]} == {"momentum_breakout"}


def test_two_runs_compare_by_their_summaries(data: Path, tmp_path: Path) -> None:
    """The same inputs give the same figures; a setting changes them and is recorded."""
    for name, extra in (("a", ()), ("b", ()), ("c", ("--set", "STOP_LOSS_PCT=1"))):
        code, out = run("--data", str(data), "--no-chart", "--out", str(tmp_path / name), *extra)
        assert code == 0, out
    a, b, c = (json.loads((tmp_path / n / "summary.json").read_text()) for n in "abc")
    assert a["overall"] == b["overall"]
    assert c["overall"] != a["overall"]
    assert c["run"]["settings"]["overrides"] == {"STOP_LOSS_PCT": "1"}


def test_days_and_symbols_can_be_chosen(data: Path, tmp_path: Path) -> None:
    code, out = run(
        "--data", str(data), "--from", "2026-03-03", "--to", "2026-03-04",
        "--symbols", "900001,900002", "--no-chart", "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 0, out
    overall = json.loads((tmp_path / "x" / "summary.json").read_text())["overall"]
    assert (overall["days"], overall["candles"]) == (2, 2 * 2 * 381)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "NO_SUCH_SETTING=1"), "unknown setting NO_SUCH_SETTING"),
        (("--set", "FILL_VOLUME_SHARE=2"), "volume_share must be in (0, 1]"),
        (("--set", "STOP_LOSS_PCT"), "expected KEY=VALUE"),
        (("--from", "2030-01-01"), "no recorded days"),
        (("--grid", "STOP_LOSS_PCT"), "expected KEY=v1,v2"),
    ],
)
def test_bad_input_is_a_clear_error(
    data: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, out = run("--data", str(data), "--out", str(tmp_path / "bad"), *args)
    assert code != 0
    assert message in out


def test_a_grid_ranks_every_combination_in_and_out_of_sample(data: Path, tmp_path: Path) -> None:
    args = ["--data", str(data), "--grid", "STOP_LOSS_PCT=1,3", "--grid", "MOMENTUM_LOOKBACK=10,20"]
    code, out = run(*args, "--jobs", "2", "--in-sample", "0.5", "--out", str(tmp_path / "g"))
    assert code == 0, out
    grid = json.loads((tmp_path / "g" / "grid.json").read_text())
    rows = grid["rows"]
    assert len(rows) == 4 and [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert [r["is_net_pnl"] for r in rows] == sorted((r["is_net_pnl"] for r in rows), reverse=True)
    assert sorted(r["oos_rank"] for r in rows) == [1, 2, 3, 4]
    assert -1 <= grid["rank_correlation"] <= 1
    # Each combination equals a plain run of its settings over the in-sample days.
    best = rows[0]
    code, out = run(
        "--data", str(data), "--to", "2026-03-04", "--no-chart", "--out", str(tmp_path / "one"),
        "--set", f"STOP_LOSS_PCT={best['STOP_LOSS_PCT']}",
        "--set", f"MOMENTUM_LOOKBACK={best['MOMENTUM_LOOKBACK']}",
    )  # fmt: skip
    assert code == 0, out
    one = json.loads((tmp_path / "one" / "summary.json").read_text())["overall"]
    assert one["net_pnl"] == best["is_net_pnl"]


def test_one_day_for_the_replay_equals_that_day_of_a_run(data: Path, tmp_path: Path) -> None:
    from datetime import date

    from stock_manager.backtest.day import backtest_day

    code, out = run("--data", str(data), "--no-chart", "--out", str(tmp_path / "r"))
    assert code == 0, out
    with (tmp_path / "r" / "trades.csv").open() as handle:
        recorded = [t for t in csv.DictReader(handle) if t["day"] == "2026-03-04"]
    one = backtest_day(data, date(2026, 3, 4))
    assert [(t.symbol, t.quantity, t.pnl) for t in one.trades] == [
        (t["symbol"], int(t["quantity"]), int(t["pnl"])) for t in recorded
    ]
