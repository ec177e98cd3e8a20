"""Round trips from the replay's ledger fills and from the backtest's trades."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from stock_manager.backtest.results import Trade
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Fill, OrderPurpose, Side
from stock_manager.replay.compare import TimeMap
from stock_manager.replay.trips import backtest_trips, replay_trips

OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=KST)
RECORDED = datetime(2026, 3, 2, 9, 0, tzinfo=KST)
CLOCK = TimeMap(OPEN, RECORDED, candle_seconds=2.0)


def fill(
    side: Side, qty: int, price: int, second: float, commission: int = 10, tax: int = 0
) -> Fill:
    at = OPEN + timedelta(seconds=second)
    return Fill(f"{side.value}{second}", "900101", side, qty, price, at, commission, tax)


def test_a_trip_runs_from_flat_to_flat_with_times_on_the_recorded_clock() -> None:
    fills = [
        (fill(Side.BUY, 60, 10_050, 22), OrderPurpose.ENTRY),
        (fill(Side.BUY, 40, 10_060, 23), OrderPurpose.ENTRY),
        (fill(Side.SELL, 100, 10_240, 28, tax=2_048), OrderPurpose.EXIT),
        (fill(Side.BUY, 10, 10_000, 40), OrderPurpose.ENTRY),
        (fill(Side.SELL, 10, 10_010, 44), OrderPurpose.LIQUIDATION),
    ]
    first, second = replay_trips(fills, {"900101": "momentum_breakout"}, CLOCK)
    assert first.quantity == 100 and first.strategy == "momentum_breakout"
    assert first.entered_at == RECORDED + timedelta(minutes=11)
    assert first.exited_at == RECORDED + timedelta(minutes=14)
    assert first.entry_price == Decimal("10054")
    assert first.exit_price == Decimal(10_240) and first.exit_reason == "exit"
    assert first.pnl == 1_024_000 - (603_000 + 402_400) - 30 - 2_048
    assert second.exit_reason == "liquidation"


def test_a_trip_still_open_is_left_out() -> None:
    assert replay_trips([(fill(Side.BUY, 5, 10_000, 1), OrderPurpose.ENTRY)], {}, CLOCK) == []


def test_backtest_trades_keep_their_times_prices_and_reasons() -> None:
    trade = Trade(
        day=date(2026, 3, 2),
        symbol="900102",
        strategy="momentum_breakout",
        quantity=73,
        entered_at=RECORDED + timedelta(minutes=13),
        buy_notional=73 * 20_250,
        exited_at=RECORDED + timedelta(minutes=15),
        sell_notional=73 * 19_990,
        exit_reason="stop_loss",
        commission=400,
        tax=2_918,
    )
    (trip,) = backtest_trips([trade])
    assert (trip.entry_price, trip.exit_price) == (Decimal(20_250), Decimal(19_990))
    assert trip.exit_reason == "stop_loss" and trip.pnl == trade.pnl
