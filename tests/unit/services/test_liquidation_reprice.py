"""Issue 16 (3): a marketable limit sell that missed (the bid moved away before it arrived)
is re-priced in the next liquidation round, not after ``escalate_after``."""

from __future__ import annotations

from stock_manager.domain.orders import OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.services.liquidation import liquidate_round
from tests.unit.services.conftest import World
from tests.unit.services.test_trading_loop import at_liquidation, holding


def sells(world: World) -> list:  # type: ignore[type-arg]
    return [o for o in world.orders() if o.side is Side.SELL]


def test_a_missed_marketable_sell_is_repriced_in_the_next_round(world: World) -> None:
    holding(world)
    at_liquidation(world)
    liquidate_round(world.ctx)
    (first,) = sells(world)
    assert (first.order_type, first.purpose) == (OrderType.LIMIT, OrderPurpose.LIQUIDATION)
    world.clock.advance(world.ctx.trading.liquidation.round_interval)  # the next round
    liquidate_round(world.ctx)
    assert [o.order_type for o in sells(world)] == [OrderType.LIMIT, OrderType.MARKET]
    assert sells(world)[0].status is OrderStatus.CANCELED


def test_a_sell_sent_this_round_is_left_to_work(world: World) -> None:
    holding(world)
    at_liquidation(world)
    liquidate_round(world.ctx)
    world.clock.advance(0.5)
    liquidate_round(world.ctx, symbol="005930")  # another trigger, moments later
    assert [o.order_type for o in sells(world)] == [OrderType.LIMIT]
