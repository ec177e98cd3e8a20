"""The replay's plan: leads and holding limit on the recorded clock for the backtest, the
same scaled to the compressed clock for the workers, and the simulator's options."""

from __future__ import annotations

import itertools
from datetime import date, time
from pathlib import Path

from stock_manager.demo.plan import DemoOptions, ReplayPlan, sim_args

PLAN = ReplayPlan(Path("/data"), date(2026, 3, 2), time(9), time(9, 25), 25, candle_seconds=2.0)


def test_a_short_window_shrinks_the_leads_and_a_full_day_keeps_live_defaults() -> None:
    assert PLAN.lead_minutes() == (10, 7, 2)  # 40 %, 28 %, and a 3-second hard cut
    day = ReplayPlan(Path("/d"), date(2026, 3, 2), time(9), time(15, 20), 380, 2.0)
    assert day.lead_minutes() == (20, 10, 2)


def test_the_backtest_and_the_workers_see_the_same_times_on_their_own_clocks() -> None:
    recorded, live = PLAN.recorded_settings(), PLAN.live_settings()
    assert recorded["ENTRY_CUTOFF_LEAD"] == "PT10M" and live["ENTRY_CUTOFF_LEAD"] == "PT20S"
    assert recorded["LIQUIDATION_LEAD"] == "PT7M" and live["LIQUIDATION_LEAD"] == "PT14S"
    assert (recorded["SESSION_OPEN"], recorded["SESSION_CLOSE"]) == ("09:00:00", "09:25:00")
    assert recorded["MAX_HOLDING_MINUTES"] == "120" and live["MAX_HOLDING_MINUTES"] == "4"
    assert live["SCAN_INTERVAL"] == "1"  # twice per recorded minute


def test_polling_never_goes_under_a_second() -> None:
    fast = ReplayPlan(Path("/d"), date(2026, 3, 2), time(9), time(9, 25), 25, 0.5)
    assert fast.live_settings()["SCAN_INTERVAL"] == "1"
    assert fast.live_settings()["PRICE_CHECK_INTERVAL"] == "1"


def test_the_simulator_replays_the_window_at_the_planned_pace() -> None:
    args = sim_args(DemoOptions(replay=PLAN))
    pairs = dict(itertools.pairwise(args))
    assert pairs["--replay-data"] == "/data" and pairs["--replay-date"] == "2026-03-02"
    assert (pairs["--replay-from"], pairs["--replay-to"]) == ("09:00", "09:25")
    assert pairs["--candle-seconds"] == "2" and pairs["--tick-interval"] == "0.1"
    assert "--session-minutes" not in args and "--symbols" not in args
