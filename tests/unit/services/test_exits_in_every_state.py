"""Impossible prices never act (issue 13 item 4); exits are sent with an order type the
exchange accepts in the symbol's trading state, and resent after a refusal (item 5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from stock_manager.domain.broker import OrderTypeRefused
from stock_manager.domain.exits import ExitPolicy, ExitReason
from stock_manager.domain.orders import OrderStatus, OrderType, Side
from stock_manager.domain.tick_sanity import TickFault
from stock_manager.domain.trade import SymbolState
from stock_manager.services.orders import Outcome
from stock_manager.services.prices import ExitPlan, check_prices, exit_now, on_tick
from tests.unit.services.conftest import World, make_world
from tests.unit.services.test_trading_loop import holding

POLICY = ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1))


def held() -> World:
    world = make_world(exits=POLICY)
    holding(world)  # 10 shares at 10,000; the quote's band is 7,000..13,000
    return world


def sells(world: World) -> list:  # type: ignore[type-arg]
    return [o for o in world.orders() if o.side is Side.SELL]


def test_a_tick_at_price_1_on_a_held_position_sells_nothing() -> None:
    world = held()
    assert on_tick(world.ctx, "005930", 1) is None
    assert sells(world) == []
    assert world.symbol().state is SymbolState.HOLDING
    assert world.symbol().last_price != 1
    assert world.ctx.sanity.dropped[TickFault.BELOW_BAND] == 1


def test_a_tick_off_the_grid_is_dropped_too() -> None:
    world = held()
    assert on_tick(world.ctx, "005930", 9_003) is None
    assert sells(world) == []
    assert world.ctx.sanity.dropped[TickFault.OFF_GRID] == 1


def test_a_polled_quote_outside_its_own_band_plans_no_exit() -> None:
    world = held()
    world.broker.set_quote("005930", 1, base_price=10_000, upper_limit=13_000, lower_limit=7_000)
    assert check_prices(world.ctx).exits == ()
    assert world.symbol().last_price != 1


def test_a_stop_in_a_dynamic_vi_sells_with_a_limit_at_the_lower_limit() -> None:
    world = held()
    world.broker.set_quote(
        "005930", 9_500, base_price=10_000, upper_limit=13_000, lower_limit=7_000, vi_code="2"
    )
    result = on_tick(world.ctx, "005930", 9_500)
    assert result is not None and result.outcome is Outcome.SUBMITTED
    (sell,) = sells(world)
    assert (sell.order_type, sell.price, sell.quantity) == (OrderType.LIMIT, 7_000, 10)


def test_a_stop_in_the_closing_call_never_sends_best() -> None:
    world = held()
    world.clock.moment = world.clock.now().replace(hour=15, minute=25)
    plan = ExitPlan("005930", ExitReason.STOP_LOSS)
    assert exit_now(world.ctx, plan).outcome is Outcome.SUBMITTED
    (sell,) = sells(world)
    assert sell.order_type is OrderType.LIMIT


def test_a_halted_symbol_holds_its_exit_until_trading_resumes() -> None:
    world = held()
    world.broker.set_quote("005930", 9_500, halted=True)
    plan = ExitPlan("005930", ExitReason.STOP_LOSS)
    assert exit_now(world.ctx, plan).outcome is Outcome.SKIPPED
    assert sells(world) == []
    world.broker.set_quote("005930", 9_500)
    assert exit_now(world.ctx, plan).outcome is Outcome.SUBMITTED


def test_a_sell_refused_for_its_type_is_resent_with_an_accepted_one() -> None:
    world = held()
    world.broker.fail_next_submit(OrderTypeRefused("not in an auction", "40560000"))
    result = exit_now(world.ctx, ExitPlan("005930", ExitReason.STOP_LOSS))
    assert result.outcome is Outcome.SUBMITTED
    refused, resent = sells(world)
    assert (refused.order_type, refused.status) == (OrderType.BEST, OrderStatus.REJECTED)
    assert (resent.order_type, resent.price) == (OrderType.LIMIT, 7_000)
    assert world.symbol().state is SymbolState.EXITING


def test_an_auction_exit_at_the_lower_limit_is_never_cancelled_to_escalate() -> None:
    """A VI lasts 2 minutes, longer than the escalation delay: cancelling the exit there
    could only miss the uncross."""
    from stock_manager.services.liquidation import liquidate_round

    world = held()
    world.broker.set_quote(
        "005930", 9_500, base_price=10_000, upper_limit=13_000, lower_limit=7_000, vi_code="2"
    )
    exit_now(world.ctx, ExitPlan("005930", ExitReason.STOP_LOSS))
    world.clock.advance(600)
    liquidate_round(world.ctx)
    (sell,) = sells(world)
    assert (sell.order_type, sell.price, sell.status) == (
        OrderType.LIMIT,
        7_000,
        OrderStatus.SUBMITTED,
    )


def test_liquidation_in_a_vi_sells_at_the_lower_limit_not_at_the_frozen_bid() -> None:
    from stock_manager.services.liquidation import liquidate_round

    world = held()
    world.broker.set_quote(
        "005930", 9_500, base_price=10_000, upper_limit=13_000, lower_limit=7_000, vi_code="1"
    )
    liquidate_round(world.ctx)
    (sell,) = sells(world)
    assert (sell.order_type, sell.price) == (OrderType.LIMIT, 7_000)
