"""The comparison of the replay's trades with the backtest's: pairing, tolerance, reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from stock_manager.domain.clock import KST
from stock_manager.replay.compare import (
    Context,
    Pacing,
    RoundTrip,
    TimeMap,
    Tolerance,
    compare,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=KST)
PACING = Pacing(candle_seconds=2.0, scan_seconds=1.0, price_check_seconds=1.0)


def trip(
    symbol: str, minute: float, held: float = 3, price: int = 10_000, **kw: object
) -> RoundTrip:
    values: dict[str, object] = {
        "symbol": symbol,
        "strategy": "momentum_breakout",
        "quantity": 100,
        "entered_at": T0 + timedelta(minutes=minute),
        "entry_price": Decimal(price),
        "exited_at": T0 + timedelta(minutes=minute + held),
        "exit_price": Decimal(price + 100),
        "exit_reason": "take_profit",
        "pnl": 9_000,
    }
    values.update(kw)
    return RoundTrip(**values)  # type: ignore[arg-type]


def test_the_same_trades_a_little_apart_pair_within_the_tolerance() -> None:
    backtest = [trip("A", 12), trip("B", 13)]
    replay = [trip("A", 11.6, exit_reason="exit"), trip("B", 12.9, exit_reason="exit")]
    result = compare(backtest, replay, PACING)
    assert [p.backtest.symbol for p in result.pairs] == ["A", "B"]
    assert result.unpaired == [] and result.within_tolerance
    assert round(result.pairs[0].entry_minutes, 1) == -0.4


def test_a_late_entry_is_explained_by_the_scan_and_fails_past_the_tolerance() -> None:
    result = compare([trip("A", 12)], [trip("A", 15)], PACING, Tolerance(entry_minutes=2))
    pair = result.pairs[0]
    assert not pair.within and not result.within_tolerance
    assert any(
        "3.0 recorded min later" in note and "scan runs every 1 s" in note
        for note in pair.explanations
    )
    assert "entry outside the time tolerance" in pair.explanations


def test_a_price_difference_beyond_the_percentage_fails() -> None:
    result = compare([trip("A", 12)], [trip("A", 12, price=10_200)], PACING)
    pair = result.pairs[0]
    assert pair.entry_pct == Decimal("2.00") and not pair.within
    assert any(note.startswith("entry price +2.00%") for note in pair.explanations)


def test_a_liquidation_exit_may_differ_in_time() -> None:
    bt = trip("C", 14, held=4, exit_reason="liquidation")
    rp = trip("C", 13.8, held=5.5, exit_reason="liquidation")
    assert compare([bt], [rp], PACING).within_tolerance


def test_different_strategies_do_not_agree() -> None:
    result = compare([trip("A", 12)], [trip("A", 12, strategy="bollinger_reversion")], PACING)
    assert not result.within_tolerance
    assert any("strategies differ" in note for note in result.pairs[0].explanations)


def test_trades_far_apart_are_unpaired_on_both_sides() -> None:
    result = compare([trip("A", 5)], [trip("A", 20)], PACING)
    assert [u.side for u in result.unpaired] == ["backtest", "replay"]
    assert not result.within_tolerance
    assert compare([trip("A", 5)], [trip("A", 20)], PACING, Tolerance(unpaired=2)).within_tolerance


def test_a_missing_replay_trade_names_an_unfilled_limit_buy() -> None:
    unfilled = (("A", T0 + timedelta(minutes=11, seconds=40)),)
    result = compare([trip("A", 12)], [], PACING, context=Context(unfilled_entries=unfilled))
    assert "never filled" in result.unpaired[0].explanation


def test_a_missing_trade_names_the_position_limit_when_it_was_full() -> None:
    replay = [trip("B", 10, held=10), trip("C", 10, held=10)]
    result = compare([trip("A", 12)], replay, PACING, context=Context(max_positions=2))
    assert [u.trade.symbol for u in result.unpaired if u.side == "backtest"] == ["A"]
    assert "MAX_POSITIONS 2" in next(u for u in result.unpaired if u.side == "backtest").explanation


def test_the_json_report_carries_both_sides_and_the_verdict() -> None:
    result = compare([trip("A", 12)], [trip("A", 12, pnl=7_000)], PACING)
    report = result.to_json()
    assert report["within_tolerance"] is True
    assert report["backtest"] == {"trades": 1, "pnl": 9_000}
    assert report["replay"] == {"trades": 1, "pnl": 7_000}
    assert report["pairs"][0]["replay"]["entered_at"] == "2026-03-02T09:12:00+09:00"


def test_the_time_map_turns_replay_seconds_into_recorded_minutes() -> None:
    opens = datetime(2026, 12, 1, 0, 48, 17, tzinfo=KST)
    clock = TimeMap(opens, T0, candle_seconds=2.0)
    assert clock.recorded(opens + timedelta(seconds=23)) == T0 + timedelta(minutes=11.5)
    assert replace(clock, candle_seconds=1.0).recorded(opens) == T0
