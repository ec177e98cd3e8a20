"""Two round trips of one symbol: the second starts with nothing of the first (issue 13,
item 3: a trailing stop that remembered the last trade's peak sold a re-entry at once)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.trade import PER_TRADE_FIELDS, SymbolState, SymbolTrade
from stock_manager.services.orders import Outcome, enter, exit_position
from stock_manager.services.prices import on_tick
from stock_manager.services.sync import sync_orders
from tests.unit.domain.test_trade_reset import stale_value
from tests.unit.services.conftest import World, make_world

SYMBOL = "005930"
TRAILING = ExitPolicy(Decimal(10), Decimal(50), Decimal(2), timedelta(hours=3))


def buy(world: World, quantity: int, price: int, strategy: str) -> str:
    assert enter(world.ctx, SYMBOL, quantity, price, OrderType.LIMIT, strategy).outcome is (
        Outcome.SUBMITTED
    )
    return world.orders(SYMBOL)[-1].broker_order_no or ""


def fill(world: World, odno: str, quantity: int, price: int) -> None:
    world.broker.fill(odno, quantity, price)
    sync_orders(world.ctx)


def first_trade(world: World) -> None:
    """Bought at 10,000, ran to a 12,000 peak, sold there."""
    world.broker.set_quote(SYMBOL, 10_000)  # the day's band (7,000-13,000) holds every tick
    fill(world, buy(world, 10, 10_000, "first"), 10, 10_000)
    world.clock.advance(60)
    assert on_tick(world.ctx, SYMBOL, 12_000) is None
    assert world.symbol().high_water == 12_000
    assert exit_position(
        world.ctx, SYMBOL, OrderType.LIMIT, 12_000, reason="take profit"
    ).outcome is (Outcome.SUBMITTED)
    fill(world, world.orders(SYMBOL)[-1].broker_order_no or "", 10, 12_000)
    assert world.symbol().state is SymbolState.FLAT


def test_a_second_trade_walks_every_per_trade_field_fresh() -> None:
    world = make_world(exits=TRAILING)
    first_trade(world)
    # whatever the first trade (or a field added later) left behind on the row
    with world.uow:
        flat = world.uow.symbols.get(SYMBOL)
        assert flat is not None
        stale = {n: stale_value(n) for n in PER_TRADE_FIELDS if n not in ("quantity", "cost")}
        world.uow.symbols.save(flat, replace(flat, **stale))
        world.uow.commit()

    world.clock.advance(600)
    odno = buy(world, 10, 10_500, "second")
    entering = world.symbol()
    fresh = SymbolTrade(SYMBOL)
    for name in PER_TRADE_FIELDS:
        expected = "second" if name == "strategy" else getattr(fresh, name)
        assert getattr(entering, name) == expected, name

    # a tick before any fill is no peak of this trade
    on_tick(world.ctx, SYMBOL, 10_600)
    assert world.symbol().high_water == 0

    world.clock.advance(5)
    first_fill_at = world.clock.now()
    fill(world, odno, 4, 10_500)
    partly = world.symbol()
    assert (partly.state, partly.entered_at, partly.high_water) == (
        SymbolState.ENTERING,
        first_fill_at,
        10_500,
    )
    world.clock.advance(5)
    fill(world, odno, 6, 10_500)
    held = world.symbol()
    assert (held.state, held.entered_at, held.high_water) == (
        SymbolState.HOLDING,
        first_fill_at,
        10_500,
    )

    # 12.5 % under the first trade's peak, on the new trade's entry: no trailing stop
    assert on_tick(world.ctx, SYMBOL, 10_500) is None
    assert world.symbol().state is SymbolState.HOLDING
    assert [o.side for o in world.orders(SYMBOL)] == [Side.BUY, Side.SELL, Side.BUY]
