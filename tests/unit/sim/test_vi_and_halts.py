"""The simulator's volatility interruptions and halts (issue 13 item 5)."""

from __future__ import annotations

import pytest

from stock_manager.domain.krx import round_to_tick
from stock_manager.domain.orders import Side
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.matching import OrderRequest
from stock_manager.sim.messages import Msg, Rejection
from stock_manager.sim.orders import OrderStatus, SimOrder
from stock_manager.sim.rest_quotes import price_output
from stock_manager.sim.vi import ViSettings
from stock_manager.sim.wsframes import trade_record
from tests.unit.sim.conftest import MakeExchange

SYMBOL = "000660"
VI = ViSettings(dynamic_pct=6.0, static_pct=10.0, seconds=120.0, extension_seconds=30.0)


def _sell(ex: Exchange, ord_dvsn: str, qty: int, price: int = 0) -> SimOrder:
    request = OrderRequest(SYMBOL, Side.SELL, ord_dvsn, qty, price)
    return ex.matching.place(request, ex.now(), ex.phase())


def _dynamic_vi(ex: Exchange) -> int:
    market = ex.markets[SYMBOL]
    ex.account.set_holding(SYMBOL, market.spec.name, 100, float(market.last))
    drop = round_to_tick(market.last * 0.93)  # 7 % below the last trade: a dynamic VI
    assert ex.force_price(SYMBOL, [drop], hold=True, vi=True) is None
    return drop


def test_a_big_move_sets_off_a_dynamic_vi_instead_of_trading(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(vi=VI)
    last = ex.markets[SYMBOL].last
    drop = _dynamic_vi(ex)
    market = ex.markets[SYMBOL]
    assert market.last == last  # nothing traded at the trigger price
    assert market.vi is not None and market.vi.kind == "dynamic" and market.vi.price == drop
    assert price_output(market)["vi_cls_code"] == "2"


def test_a_vi_refuses_best_accepts_a_limit_and_fills_at_the_auctions_price(
    make_exchange: MakeExchange,
) -> None:
    ex, clock = make_exchange(vi=VI)
    drop = _dynamic_vi(ex)
    market = ex.markets[SYMBOL]
    with pytest.raises(Rejection) as refused:
        _sell(ex, "03", 100)
    assert refused.value.msg is Msg.NOT_IN_AUCTION
    order = _sell(ex, "00", 100, market.limits.lower)
    assert order.filled_qty == 0  # collected, not matched, during the auction
    ends = market.vi.ends_at if market.vi else 0
    assert 120 <= ends - ex.now().timestamp() <= 150  # 2 minutes and a random extension
    clock.advance(119)
    ex.advance()
    assert order.filled_qty == 0 and market.vi is not None
    clock.advance(32)
    ex.advance()
    assert market.vi is None
    assert order.status is OrderStatus.FILLED
    assert {f.price for f in order.fills} == {drop}
    assert market.vi_reference == drop


def test_a_halted_symbol_refuses_orders_and_flags_its_quotes(make_exchange: MakeExchange) -> None:
    ex, _ = make_exchange(vi=VI)
    market = ex.markets[SYMBOL]
    ex.account.set_holding(SYMBOL, market.spec.name, 10, float(market.last))
    ex.halt(SYMBOL, True)
    with pytest.raises(Rejection) as refused:
        _sell(ex, "00", 10, market.limits.lower)
    assert refused.value.msg is Msg.HALTED
    assert price_output(market)["temp_stop_yn"] == "Y"
    assert ex.force_price(SYMBOL, [market.last]) is None  # no trades either
    ex.halt(SYMBOL, False)
    trade = ex.force_price(SYMBOL, [market.last])
    assert trade is not None
    fields = trade_record(market, trade, ex.session).split("^")
    assert (fields[35], fields[43]) == ("N", "0")


def test_the_vi_options_reach_the_simulator() -> None:
    import click

    from stock_manager.sim.cli import build_config, sim

    ctx = click.Context(sim)
    options = sim.make_context(
        "sim", ["--vi-seconds", "4", "--dynamic-vi-pct", "3", "--no-vi"], parent=ctx
    ).params
    options.pop("verbose", None)
    config = build_config(options)
    assert config.vi == ViSettings(enabled=False, dynamic_pct=3.0, seconds=4.0)


def test_the_markets_own_moves_set_off_vis_and_each_ends(make_exchange: MakeExchange) -> None:
    """Without forced prices: a tight threshold and a busy market interrupt some symbols,
    and every auction ends (with its uncross) once its time is up."""
    ex, clock = make_exchange(
        vi=ViSettings(dynamic_pct=0.3, static_pct=1.0, seconds=5.0, extension_seconds=1.0)
    )
    for _ in range(30):
        clock.advance(1)
        ex.advance()
    assert ex.interruptions > 0
    ex.config.vi = ViSettings(enabled=False)
    clock.advance(7)
    ex.advance()
    assert not any(row["vi"] for row in ex.symbols_json())
