from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Fill, Side
from stock_manager.domain.pnl import (
    AdjustmentKind,
    PositionAdjustment,
    fifo,
    max_drawdown,
    trade_stats,
)
from stock_manager.domain.position import Position

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=KST)


def fill(
    n: int,
    side: Side,
    qty: int,
    price: int,
    commission: int = 0,
    tax: int = 0,
    symbol: str = "005930",
) -> Fill:
    return Fill(f"f{n}", symbol, side, qty, price, T0 + timedelta(minutes=n), commission, tax)


def test_fifo_matches_sells_against_the_oldest_buys() -> None:
    result = fifo(
        [
            fill(1, Side.BUY, 10, 1_000),
            fill(2, Side.BUY, 10, 1_200),
            fill(3, Side.SELL, 15, 1_300),
        ]
    )
    (trade,) = result.closed
    assert trade.buy_cost == 10 * 1_000 + 5 * 1_200
    assert trade.pnl == 15 * 1_300 - 16_000
    (lot,) = result.open_lots
    assert (lot.quantity, lot.price) == (5, 1_200)


def test_every_won_of_commission_and_tax_is_accounted_for() -> None:
    fills = [
        fill(1, Side.BUY, 3, 10_000, commission=7),
        fill(2, Side.SELL, 1, 10_500, commission=1, tax=21),
        fill(3, Side.SELL, 2, 9_900, commission=2, tax=39),
    ]
    result = fifo(fills)
    cash = sum(
        (f.notional if f.side is Side.SELL else -f.notional) - f.commission - f.tax for f in fills
    )
    assert result.realized == cash  # fully closed: realized PnL is exactly the cash that moved
    assert sum(t.commission for t in result.closed) == 7 + 1 + 2


def test_unrealized_uses_marks_and_unallocated_buy_commission() -> None:
    result = fifo([fill(1, Side.BUY, 10, 1_000, commission=3)])
    assert result.unrealized({"005930": 1_100}) == 10 * 100 - 3


def test_selling_more_than_was_bought_is_reported_not_raised() -> None:
    result = fifo([fill(1, Side.BUY, 1, 1_000), fill(2, Side.SELL, 2, 1_200)])
    (trade,) = result.closed
    assert trade.buy_cost == 1_000 + 1_200  # the share without a lot: at the sell's own price
    assert trade.pnl == 200
    assert result.unmatched == (("005930", 1),)


def test_a_carried_lot_takes_the_broker_basis_and_a_manual_sale_books_all_its_pnl() -> None:
    carried = PositionAdjustment("005930", 398, 71_000, T0, AdjustmentKind.CARRIED)
    bought = fill(1, Side.BUY, 2, 70_000, commission=20)
    sold = fill(2, Side.SELL, 400, 72_000, commission=4_000, tax=57_600)  # by hand
    result = fifo([bought, sold], adjustments=[carried])
    (trade,) = result.closed
    assert trade.buy_cost == 398 * 71_000 + 2 * 70_000
    assert trade.pnl == 400 * 72_000 - trade.buy_cost - 20 - 4_000 - 57_600
    assert result.open_lots == () and result.unrealized({"005930": 80_000}) == 0  # flat: 0
    assert result.unmatched == ()


def test_drift_takes_shares_out_at_cost_without_realizing_anything() -> None:
    lots = [
        fill(1, Side.BUY, 10, 1_000),
        PositionAdjustment("005930", -3, 0, T0 + timedelta(minutes=2), AdjustmentKind.DRIFT),
    ]
    result = fifo([f for f in lots if isinstance(f, Fill)], adjustments=[lots[1]])  # type: ignore[list-item]
    assert result.closed == ()
    (lot,) = result.open_lots
    assert (lot.quantity, lot.price) == (7, 1_000)


def test_trade_stats_win_rate_profit_factor_and_drawdown() -> None:
    trades = fifo(
        [
            fill(1, Side.BUY, 1, 1_000),
            fill(2, Side.SELL, 1, 1_300),  # +300
            fill(3, Side.BUY, 1, 1_000),
            fill(4, Side.SELL, 1, 900),  # -100
            fill(5, Side.BUY, 1, 1_000),
            fill(6, Side.SELL, 1, 800),  # -200
            fill(7, Side.BUY, 1, 1_000),
            fill(8, Side.SELL, 1, 1_100),  # +100
        ]
    ).closed
    stats = trade_stats(trades)
    assert (stats.trades, stats.wins, stats.losses, stats.net) == (4, 2, 2, 100)
    assert stats.win_rate == Decimal("0.5")
    assert stats.profit_factor == Decimal("1.3333")
    assert stats.max_drawdown.amount == 300


def test_no_losing_trade_means_no_profit_factor() -> None:
    trades = fifo([fill(1, Side.BUY, 1, 1_000), fill(2, Side.SELL, 1, 1_100)]).closed
    assert trade_stats(trades).profit_factor is None
    assert trade_stats([]).win_rate is None


def test_max_drawdown_fraction_of_peak() -> None:
    dd = max_drawdown([100, 120, 90, 130, 125])
    assert dd.amount == 30
    assert dd.fraction == Decimal("0.25")


def test_position_follows_fills_with_average_cost() -> None:
    p = Position("005930").apply_fill(Side.BUY, 10, 1_000).apply_fill(Side.BUY, 10, 1_100)
    assert p.average_price == Decimal("1050.0000")
    p = p.apply_fill(Side.SELL, 5, 2_000)
    assert (p.quantity, p.cost) == (15, 15_750)
    assert p.apply_fill(Side.SELL, 15, 1).is_flat
