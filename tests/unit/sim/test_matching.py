"""The matching engine on a hand-driven clock: crossing, volume limits, IOC/FOK, cash, fees."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.krx import ticks_away
from stock_manager.domain.orders import Side
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.market import SymbolMarket
from stock_manager.sim.matching import OrderRequest
from stock_manager.sim.messages import Msg, Rejection
from stock_manager.sim.orders import NoticeKind, OrderStatus, SimOrder
from stock_manager.sim.session import Phase
from tests.unit.sim.conftest import MakeExchange

FEES = FeeSchedule()
SYMBOL = "000660"


def _place(ex: Exchange, side: Side, ord_dvsn: str, qty: int, price: int = 0) -> SimOrder:
    return ex.matching.place(OrderRequest(SYMBOL, side, ord_dvsn, qty, price), ex.now(), ex.phase())


def _held(ex: Exchange, price: int | None = None) -> SymbolMarket:
    market = ex.markets[SYMBOL]
    ex.force_price(SYMBOL, [price or market.last], hold=True)
    return market


def test_a_marketable_buy_walks_the_book(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(cash=10**11)
    market = _held(ex)
    asks, sizes = list(market.book().asks), list(market.book().ask_qty)
    order = _place(ex, Side.BUY, "00", sizes[0] + 2, asks[3])
    assert [(f.qty, f.price) for f in order.fills] == [(sizes[0], asks[0]), (2, asks[1])]
    assert order.status is OrderStatus.FILLED
    assert market.book().ask_qty[:2] == [0, sizes[1] - 2]


def test_resting_limit_fills_only_as_far_as_traded_volume(make_exchange: MakeExchange) -> None:
    ex, clock = make_exchange(cash=10**11)
    market = _held(ex)
    limit = ticks_away(market.last, -2)
    order = _place(ex, Side.BUY, "00", int(market.params.trade_qty * 20), limit)
    assert order.filled_qty == 0
    traded: list[int] = []
    ex.trade_listeners.append(lambda m, t: traded.append(t.qty) if m is market else None)
    ex.force_price(SYMBOL, [ticks_away(limit, -1)], hold=True)
    assert 0 < order.filled_qty == traded[0] < order.qty
    assert all(f.price == limit for f in order.fills)
    clock.advance(20)
    ex.advance()
    assert order.filled_qty == min(order.qty, sum(traded))


def test_strict_trade_through_when_fill_on_touch_is_off(make_exchange: MakeExchange) -> None:
    ex, clock = make_exchange(fill_on_touch=False)
    market = _held(ex)
    order = _place(ex, Side.BUY, "00", 1, ticks_away(market.last, -1))
    ex.force_price(SYMBOL, [order.price], hold=True)
    clock.advance(5)
    ex.advance()
    assert order.filled_qty == 0
    ex.force_price(SYMBOL, [ticks_away(order.price, -1)])
    assert order.filled_qty == 1


def test_ioc_keeps_what_fills_and_fok_fills_all_or_nothing(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(cash=10**11)
    market = _held(ex)
    top = market.book().ask_qty[0]
    ioc = _place(ex, Side.BUY, "11", top + 5, market.book().asks[0])
    assert (ioc.filled_qty, ioc.cancelled_qty, ioc.status) == (top, 5, OrderStatus.CANCELLED)
    ex.force_price(SYMBOL, [market.last], hold=True)
    fok = _place(ex, Side.BUY, "12", market.book().ask_qty[0] + 1, market.book().asks[0])
    assert (fok.filled_qty, fok.status) == (0, OrderStatus.CANCELLED)


def test_best_and_priority_limit_orders(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange()
    market = _held(ex)
    ask, bid = market.book().asks[0], market.book().bids[0]
    best = _place(ex, Side.BUY, "03", 1)
    assert best.limit == ask and best.fills[0].price == ask
    priority = _place(ex, Side.BUY, "04", 1)
    assert priority.limit == bid and priority.is_open


def test_market_buy_reserves_at_the_upper_limit(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(cash=1_000_000)
    market = _held(ex)
    qty = 1_000_000 // market.limits.upper + 1
    assert FEES.buy_cash_needed(qty * market.last) < 1_000_000
    with pytest.raises(Rejection) as refused:
        _place(ex, Side.BUY, "01", qty)
    assert refused.value.msg is Msg.NO_CASH


def test_buying_power_counts_fees_and_open_reservations(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(cash=1_000_000)
    market = _held(ex)
    low = ticks_away(market.last, -20)
    first = _place(ex, Side.BUY, "00", 1_000_000 // low // 2, low)
    assert ex.matching.reserved_cash() == FEES.buy_cash_needed(first.qty * low)
    with pytest.raises(Rejection):
        _place(ex, Side.BUY, "00", 1_000_000 // low - first.qty + 1, low)
    ex.matching.cancel(first.odno, 0, True, ex.now(), ex.phase())
    assert ex.matching.reserved_cash() == 0
    assert ex.matching.buying_power() == 1_000_000


def test_fills_update_holdings_fees_tax_and_realized_pnl(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange()
    market = _held(ex)
    buy = _place(ex, Side.BUY, "01", 10)
    cost = sum(f.qty * f.price for f in buy.fills)
    held = ex.account.holdings[SYMBOL]
    assert (held.qty, held.cost) == (10, cost)
    ex.force_price(SYMBOL, [ticks_away(market.last, 10)], hold=True)
    sell = _place(ex, Side.SELL, "01", 4)
    proceeds = sum(f.qty * f.price for f in sell.fills)
    fees = sum(f.commission + f.tax for f in sell.fills)
    assert sell.fills[0].tax == FEES.sell_tax(proceeds)
    basis = round(cost * 4 / 10)
    buy_fees = round(sum(f.commission for f in buy.fills) * 4 / 10)
    assert ex.account.realized[SYMBOL] == proceeds - basis - buy_fees - fees
    assert held.qty == 6 and held.cost == cost - basis
    assert (
        ex.account.cash_d2
        == ex.account.deposit - cost - sum(f.commission for f in buy.fills) + proceeds - fees
    )


def test_selling_more_than_sellable_is_refused(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange()
    market = _held(ex)
    ex.account.set_holding(SYMBOL, "x", 5, 1000)
    _place(ex, Side.SELL, "00", 4, ticks_away(market.last, 10))
    with pytest.raises(Rejection) as refused:
        _place(ex, Side.SELL, "00", 2, ticks_away(market.last, 10))
    assert refused.value.msg is Msg.NO_SELLABLE


def test_modify_moves_the_remainder_and_keeps_fills(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange()
    market = _held(ex)
    low = ticks_away(market.last, -10)
    original = _place(ex, Side.BUY, "00", 5, low)
    moved = ex.matching.modify(
        original.odno,
        OrderRequest("", Side.BUY, "00", 3, ticks_away(low, 1)),
        False,
        ex.now(),
        ex.phase(),
    )
    assert (original.remaining, original.replaced_qty, original.status) == (2, 3, OrderStatus.OPEN)
    assert (moved.orgn_odno, moved.qty, moved.odno) == (original.odno, 3, original.odno + 1)
    with pytest.raises(Rejection):
        ex.matching.modify(
            original.odno, OrderRequest("", Side.BUY, "00", 3, low), False, ex.now(), ex.phase()
        )


def test_orders_outside_the_session(make_exchange: MakeExchange) -> None:
    ex, clock = make_exchange(session_minutes=1.0, auction_seconds=10)
    with pytest.raises(Rejection) as early:
        ex.matching.place(OrderRequest(SYMBOL, Side.BUY, "01", 1, 0), ex.now(), Phase.PRE)
    assert early.value.msg is Msg.BEFORE_OPEN
    clock.advance(75)
    ex.advance()
    assert ex.phase() is Phase.CLOSED
    with pytest.raises(Rejection) as late:
        _place(ex, Side.BUY, "01", 1)
    assert late.value.msg is Msg.AFTER_CLOSE


def test_conditional_limit_becomes_market_in_the_closing_call(make_exchange: MakeExchange) -> None:
    ex, clock = make_exchange(session_minutes=1.0, auction_seconds=10)
    market = _held(ex)
    conditional = _place(ex, Side.BUY, "02", 2, ticks_away(market.last, -30))
    plain = _place(ex, Side.BUY, "00", 2, ticks_away(market.last, -30))
    notices = []
    ex.notice_listeners.append(notices.append)
    clock.advance(61)
    ex.advance()
    assert conditional.limit is None and conditional.is_open
    clock.advance(10)
    ex.advance()
    assert conditional.status is OrderStatus.FILLED
    assert conditional.fills[0].price == market.last and conditional.fills[0].at == (
        ex.session.auction_ends_at
    )
    assert plain.status is OrderStatus.CANCELLED
    assert [n.kind for n in notices] == [NoticeKind.FILLED, NoticeKind.EXPIRED]


def test_trade_schedule_skips_rather_than_replays_a_long_stall(make_exchange: MakeExchange) -> None:
    ex, clock = make_exchange(symbols=1)
    clock.advance(1)
    ex.advance()
    clock.advance(600)
    played = ex.advance()
    assert played <= 2 / ex.markets["005930"].interval + 2
    assert ex.now() - ex.session.opens_at == timedelta(seconds=601)
