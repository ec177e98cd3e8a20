"""Positions the ledger did not open are first-class (issue 12, item 5), against the
simulator: holdings carried over from an earlier day, shares bought and sold by hand in the
HTS, and drift take their cost basis from the broker and flow through FIFO, the summary, the
report and the settlement without raising; a manual sale books its whole realized PnL; and
``EXTERNAL_HOLDINGS`` decides what the system does with them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import OrderPurpose, OrderType, Side
from stock_manager.domain.pnl import AdjustmentKind
from stock_manager.domain.trade import SymbolState
from stock_manager.services.liquidation import liquidate_round
from stock_manager.services.prices import check_prices
from stock_manager.services.reconcile import reconcile
from stock_manager.services.report import build_report
from stock_manager.services.settlement import settle_day
from tests.integration.ledger.stack import Stack, wait_for


@pytest.fixture
def backend() -> str:
    return "sqlite"


def symbols(stack: Stack) -> list[str]:
    return [s["symbol"] for s in stack.admin("symbols")["symbols"]]


def carry(stack: Stack, symbol: str, quantity: int, avg_price: int) -> None:
    """Shares at the broker since an earlier day, which the ledger never heard of."""
    stack.admin(
        "account", {"holdings": [{"symbol": symbol, "qty": quantity, "avg_price": avg_price}]}
    )


def by_hand(stack: Stack, symbol: str, side: Side, quantity: int) -> None:
    """An order placed in the HTS: straight to the broker, never through the ledger; then
    traded through so it fills at once."""
    market = stack.market(symbol)
    price = int(market["upper"] if side is Side.BUY else market["lower"])
    stack.ctx.broker.submit(OrderRequest(symbol, side, quantity, OrderType.LIMIT, price))
    stack.trade_through(symbol, int(market["last"]))
    wait_for(
        lambda: all(o["status"] != "open" for o in stack.broker_orders(symbol)),
        what="the order by hand to fill",
    )


def adjustments(stack: Stack, symbol: str) -> list[tuple[AdjustmentKind, int, int]]:
    with stack.ctx.uow as uow:
        found = uow.adjustments.for_day(stack.day)
    return [(a.kind, a.quantity, a.price) for a in found if a.symbol == symbol]


def test_a_carried_holding_sold_by_hand_books_its_whole_realized_pnl(stack: Stack) -> None:
    ctx = stack.ctx
    symbol = symbols(stack)[1]
    basis = int(stack.market(symbol)["last"]) - 500
    carry(stack, symbol, 398, basis)
    reconcile(ctx)
    trade = stack.symbol(symbol)
    assert (trade.state, trade.quantity, trade.strategy) == (SymbolState.HOLDING, 398, "external")
    assert adjustments(stack, symbol) == [(AdjustmentKind.CARRIED, 398, basis)]

    by_hand(stack, symbol, Side.SELL, 398)
    reconcile(ctx)

    assert stack.symbol(symbol).state is SymbolState.FLAT
    (external,) = [o for o in stack.orders(symbol) if o.purpose is OrderPurpose.EXTERNAL]
    sold = stack.fills(external)
    proceeds = sum(f.notional for f in sold)
    costs = sum(f.commission + f.tax for f in sold)
    report = build_report(ctx.uow, stack.day)  # never raises
    (closed,) = report.trades
    assert closed.buy_cost == 398 * basis
    assert report.summary.realized_pnl == proceeds - 398 * basis - costs  # all of it
    assert report.summary.unrealized_pnl == 0  # the broker is flat
    assert adjustments(stack, symbol) == [(AdjustmentKind.CARRIED, 398, basis)]  # nothing more


def test_a_manual_buy_is_adopted_at_its_real_price_and_settles_to_the_won(stack: Stack) -> None:
    ctx = stack.ctx
    symbol = symbols(stack)[2]
    opening = int(stack.admin("state")["cash"]["cash_d2"])
    with ctx.uow as uow:  # what initializing the day records: the D+2 cash at the start
        uow.market.set_opening_cash(stack.day, opening)
        uow.commit()
    by_hand(stack, symbol, Side.BUY, 7)
    reconcile(ctx)

    trade = stack.symbol(symbol)
    assert (trade.state, trade.quantity) == (SymbolState.HOLDING, 7)
    assert adjustments(stack, symbol) == []  # the fills explain it: no invented basis
    (external,) = stack.orders(symbol)
    assert external.purpose is OrderPurpose.EXTERNAL and external.filled_quantity == 7
    wait_for(lambda: liquidate_round(ctx).flat, timeout=20, what="flat")
    assert stack.broker_holding(symbol) == 0
    settlement = settle_day(ctx, stack.day)
    assert settlement.difference == 0, (settlement, opening)  # every won of both trades


def test_drift_with_no_order_never_breaks_the_book(stack: Stack) -> None:
    ctx = stack.ctx
    symbol = symbols(stack)[3]
    price = int(stack.market(symbol)["last"])
    carry(stack, symbol, 10, price)
    reconcile(ctx)
    carry(stack, symbol, 6, price)  # four shares left the account with no order at all
    reconcile(ctx)

    assert stack.symbol(symbol).quantity == 6
    assert adjustments(stack, symbol) == [
        (AdjustmentKind.CARRIED, 10, price),
        (AdjustmentKind.DRIFT, -4, 0),
    ]
    report = build_report(ctx.uow, stack.day)
    assert report.trades == ()  # nothing was sold: nothing realized


def test_ignored_holdings_are_left_alone_and_outside_the_flat_check(stack: Stack) -> None:
    ctx = replace(stack.ctx, trading=replace(stack.ctx.trading, external_holdings="ignore"))
    mine, theirs = symbols(stack)[4:6]
    carry(stack, theirs, 20, int(stack.market(theirs)["last"]))
    reconcile(ctx)
    assert stack.symbol(theirs).state is SymbolState.IGNORED

    report = liquidate_round(ctx)

    assert report.flat  # the ignored shares are not ours to sell
    assert stack.broker_holding(theirs) == 20
    assert [o for o in stack.orders() if o.symbol == theirs] == []
    assert mine not in report.remaining


def test_liquidate_sells_a_holding_it_did_not_open_at_once(stack: Stack) -> None:
    ctx = replace(stack.ctx, trading=replace(stack.ctx.trading, external_holdings="liquidate"))
    symbol = symbols(stack)[6]
    carry(stack, symbol, 15, int(stack.market(symbol)["last"]))
    reconcile(ctx)
    check = check_prices(ctx)
    assert [(p.symbol, p.reason) for p in check.exits] == [(symbol, ExitReason.EXTERNAL)]
