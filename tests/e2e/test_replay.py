"""A recorded day replayed through the real pipeline (simulator playing the recording,
``celery worker``, ``celery beat``, ``stock-manager stream``) on the embedded default, set
beside the backtest of the same day: the trades agree within the documented tolerance
(docs/replay.md), the account ends flat and the ledger equals the simulator."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from stock_manager.demo.plan import DemoOptions
from stock_manager.replay.day import plan_replay
from stock_manager.replay.runner import Replay
from tests.replay_day import write_replay_day


def test_a_replayed_day_trades_like_its_backtest(tmp_path: Path) -> None:
    data = tmp_path / "market-data"
    day = write_replay_day(data)
    plan = replace(plan_replay(data, day, candle_seconds=2.0), delay=5.0)
    output = io.StringIO()
    replay = Replay(
        DemoOptions(
            minutes=plan.minutes * plan.candle_seconds / 60, out=tmp_path / "out", replay=plan
        ),
        Console(file=output, width=160),
    )
    code = replay.run()
    text = output.getvalue()
    assert replay.verdict is not None and replay.verdict.ok, text
    comparison = replay.comparison
    assert comparison is not None, text
    # the day was designed for three round trips, one per symbol, in both runs
    assert len(comparison.pairs) == 3, text
    assert comparison.unpaired == [], text
    assert comparison.within_tolerance, text
    assert code == 0, text
    reasons = {p.backtest.symbol: p.backtest.exit_reason for p in comparison.pairs}
    assert reasons == {"900101": "take_profit", "900102": "stop_loss", "900103": "liquidation"}
    assert {p.replay.exit_reason for p in comparison.pairs} == {"exit", "liquidation"}
    saved = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert saved["within_tolerance"] is True and len(saved["pairs"]) == 3
    assert "within the tolerance" in (tmp_path / "out" / "comparison.txt").read_text()
