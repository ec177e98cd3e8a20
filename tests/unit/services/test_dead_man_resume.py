"""Issue 13 item 9: entries resume after the dead-man switch once price checks have been
healthy for a set time (with an alert), unless a setting keeps the halt for the day."""

from __future__ import annotations

from dataclasses import replace

from stock_manager.domain.market import MarketState
from stock_manager.services import market
from stock_manager.services.health import PRICE_CHECK, dead_man_check
from tests.unit.services.conftest import World, make_world


def price_check_ok(world: World) -> None:
    with world.uow:
        world.uow.task_runs.succeeded(PRICE_CHECK, world.clock.now())
        world.uow.commit()


def state(world: World) -> MarketState:
    with world.uow:
        return world.uow.market.get(world.day)


def tripped(hold_day: bool = False) -> World:
    world = make_world()
    policy = replace(world.ctx.policy, dead_man_resume_seconds=120.0, dead_man_hold_day=hold_day)
    object.__setattr__(world.ctx, "policy", policy)
    price_check_ok(world)
    world.clock.advance(60)  # a 60-second blip: the token was lost
    assert dead_man_check(world.ctx) is True
    assert state(world) is MarketState.STOPPED
    return world


def healthy_for(world: World, seconds: int, step: int = 2) -> None:
    for _ in range(seconds // step):
        world.clock.advance(step)
        price_check_ok(world)
        dead_man_check(world.ctx)


def test_entries_resume_after_healthy_price_checks_with_an_alert() -> None:
    world = tripped()
    healthy_for(world, 100)
    assert state(world) is MarketState.STOPPED  # not yet: 120 s are needed
    healthy_for(world, 30)
    assert state(world) is MarketState.READY  # the lifecycle opens it again
    assert world.notifier.kinds() == ["dead_man", "dead_man_resumed"]


def test_a_new_silence_restarts_the_healthy_period() -> None:
    world = tripped()
    healthy_for(world, 100)
    world.clock.advance(40)  # silent again, longer than DEAD_MAN_SECONDS
    assert dead_man_check(world.ctx) is False
    healthy_for(world, 100)
    assert state(world) is MarketState.STOPPED
    healthy_for(world, 30)
    assert state(world) is MarketState.READY


def test_a_failing_price_check_is_not_healthy() -> None:
    world = tripped()
    healthy_for(world, 100)
    with world.uow:
        world.uow.task_runs.failed(PRICE_CHECK, world.clock.now())
        world.uow.commit()
    healthy_for(world, 100)
    assert state(world) is MarketState.STOPPED
    healthy_for(world, 30)
    assert state(world) is MarketState.READY


def test_the_hold_day_setting_keeps_the_halt() -> None:
    world = tripped(hold_day=True)
    healthy_for(world, 600)
    assert state(world) is MarketState.STOPPED
    assert world.notifier.kinds() == ["dead_man"]


def test_a_halt_the_switch_did_not_make_is_never_lifted() -> None:
    world = make_world()
    price_check_ok(world)
    market.halt(world.uow, world.clock, "halted by hand", "operator")
    healthy_for(world, 600)
    assert state(world) is MarketState.STOPPED
