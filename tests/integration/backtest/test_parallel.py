"""Days in parallel processes give exactly the sequential run, cash carried over included."""

from __future__ import annotations

from pathlib import Path

import pytest

from stock_manager.adapters.market_data.synthetic import generate
from stock_manager.backtest.grid import data_opener
from stock_manager.backtest.parallel import run_days_parallel
from stock_manager.backtest.runner import run_days
from stock_manager.backtest.settings import Sessions, build


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("market-data")
    generate(root, 5, 8, seed=11)
    return root


@pytest.mark.parametrize(
    ("values", "rerun"),
    [
        ({}, False),  # cash never binds: every day is taken as run
        ({"INITIAL_CASH": "2000000"}, True),  # a day's entries hinge on its cash: run again
    ],
)
def test_parallel_days_equal_the_sequential_run(
    data: Path, values: dict[str, str], rerun: bool
) -> None:
    opener = data_opener(data, None)
    source = opener()
    days = list(source.trading_days())
    settings, config = build(values)
    sequential = run_days(config, source, days, Sessions(settings))
    parallel, reruns = run_days_parallel(opener, values, days, jobs=2)
    assert parallel == sequential
    assert (reruns > 0) is rerun
    assert sum(len(d.trades) for d in sequential) > 0
