"""The backtest's trades on a hand-made day equal the ones worked out by hand (issue 17)."""

from __future__ import annotations

from decimal import Decimal

from stock_manager.backtest.engine import run_day
from stock_manager.domain.pnl import fifo
from stock_manager.domain.session import regular_session
from tests.unit.backtest.series import BASES, DAY, at, config, series


def run(**fills: object):  # type: ignore[no-untyped-def]
    return run_day(config(**fills), regular_session(DAY), series(), BASES, 100_000_000)


def rows(result):  # type: ignore[no-untyped-def]
    return [
        (
            t.symbol,
            t.quantity,
            t.entered_at,
            t.buy_notional,
            t.exited_at,
            t.sell_notional,
            t.exit_reason,
            t.commission,
            t.tax,
            t.pnl,
        )
        for t in result.trades
    ]


def test_entries_stop_trailing_stop_and_liquidation_to_the_won() -> None:
    # Commission 0.0140527 % per side, tax 0.20 % on sells, both truncated to the won.
    assert rows(run()) == [
        # 98 x 10,100 = 989,800 (commission 139); 98 x 9,790 = 959,420 (134; tax 1,918).
        ("005930", 98, at("09:04"), 989_800, at("09:06"), 959_420, "stop_loss",
         139 + 134, 1_918, 959_420 - 989_800 - 139 - 134 - 1_918),
        # 100 x 9,900 = 990,000 (139); 100 x 10,040 = 1,004,000 (141; tax 2,008).
        ("005930", 100, at("09:11"), 990_000, at("09:14"), 1_004_000, "trailing_stop",
         139 + 141, 2_008, 11_712),
        # 49 x 20,200 = 989,800 (139); liquidated 49 x 20,150 = 987,350 (138; tax 1,974).
        ("000660", 49, at("14:54"), 989_800, at("15:10"), 987_350, "liquidation",
         139 + 138, 1_974, -4_701),
    ]  # fmt: skip


def test_every_won_is_accounted_for() -> None:
    result = run()
    assert result.end_cash - result.start_cash == sum(t.pnl for t in result.trades) == -25_560
    assert fifo(result.fills).realized == -25_560
    assert fifo(result.fills).open_lots == ()


def test_no_entry_is_judged_at_or_after_the_entry_cutoff() -> None:
    assert "035720" not in {t.symbol for t in run().trades}


def test_a_volume_cap_fills_part_and_the_rest_is_cancelled() -> None:
    first = run(volume_share=Decimal("0.01")).trades[0]  # 1 % of 2,000 shares: 20
    assert (first.quantity, first.buy_notional, first.exit_reason) == (20, 202_000, "stop_loss")
    assert first.sell_notional == 10 * 9_790 + 10 * 9_740  # 10 a candle: 09:06, then 09:07


def test_a_daily_loss_breach_stops_entries_for_the_rest_of_the_day() -> None:
    from dataclasses import replace

    from stock_manager.domain.risk import RiskLimits

    base = config()
    risk = RiskLimits(max_notional_per_symbol=1_000_000, max_daily_loss=30_000)
    halted = replace(base, trading=replace(base.trading, risk=risk))
    result = run_day(halted, regular_session(DAY), series(), BASES)
    # The first stop loses 32,571 won: the next entry is refused and the market halted, so
    # no later scan plans anything (the 14:53 breakout is not taken either).
    assert [(t.symbol, t.exit_reason) for t in result.trades] == [("005930", "stop_loss")]
    assert result.refusals == {"max_daily_loss": 1}


def test_an_etf_ticks_5_won_pays_the_etp_commission_and_no_sale_tax() -> None:
    from stock_manager.domain.instruments import InstrumentKind
    from stock_manager.domain.krx import price_limits

    limits = {**BASES, "005930": price_limits(10_000, kind=InstrumentKind.ETF)}
    result = run_day(config(), regular_session(DAY), series(), limits, 100_000_000)
    first = result.trades[0]
    # The ask is 10,100 + 5 (not 10): 98 shares; filled at the open 10,100 = 989,800,
    # commission 0.0146527 % = 145. Stop: sold at the open 9,800 less 5 won = 959,910,
    # commission 140, no tax.
    assert (first.quantity, first.buy_notional, first.sell_notional) == (98, 989_800, 959_910)
    assert (first.commission, first.tax, first.pnl) == (145 + 140, 0, -30_175)


def test_a_symbol_without_limits_is_a_clear_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="no price limits or base price for 035720"):
        run_day(config(), regular_session(DAY), series(), {"005930": 10_000, "000660": 20_000})
