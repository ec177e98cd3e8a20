"""Issue 16 (4): a price check marks every held symbol in one batched write, without
leases; a mark that makes an exit due is still left to the lease and the state machine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stock_manager.domain.exits import ExitPolicy, ExitReason
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.services.prices import check_prices
from tests.fakes.uow import FakeSymbols
from tests.unit.services.conftest import World, make_world

SYMBOLS = ("000100", "000200", "000300")


def held(world: World, *symbols: str, price: int = 10_000) -> None:
    with world.uow:
        for symbol in symbols:
            world.uow.symbols.save(
                SymbolTrade(symbol),
                SymbolTrade(
                    symbol,
                    SymbolState.HOLDING,
                    quantity=10,
                    cost=10 * price,
                    high_water=price,
                    last_price=price,
                    entered_at=world.clock.now(),
                ),
            )
        world.uow.commit()


def counting(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count lease grants and symbol writes (the fake's class methods, so every unit of work)."""
    calls = {"acquire": 0, "mark_prices": 0, "save": 0}

    def counted(owner: object, name: str) -> None:
        inner = getattr(owner, name)

        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[name] += 1
            return inner(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapped)

    counted(world.locks, "acquire")
    counted(FakeSymbols, "mark_prices")
    counted(FakeSymbols, "save")
    return calls


def test_one_batched_write_marks_every_held_symbol_and_takes_no_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world()
    held(world, *SYMBOLS)
    for i, symbol in enumerate(SYMBOLS):
        world.broker.set_quote(symbol, 10_100 + 10 * i)
    calls = counting(world, monkeypatch)
    result = check_prices(world.ctx)
    assert result.marked == 3
    assert calls == {"acquire": 0, "mark_prices": 1, "save": 0}
    for i, symbol in enumerate(SYMBOLS):
        trade = world.symbol(symbol)
        assert (trade.last_price, trade.high_water) == (10_100 + 10 * i,) * 2
        assert trade.version == 1  # a mark is not a state write: no version, no fence


def test_a_lower_price_marks_the_last_price_and_keeps_the_high_water() -> None:
    world = make_world()
    held(world, "000100", price=10_000)
    world.broker.set_quote("000100", 9_900)
    check_prices(world.ctx)
    trade = world.symbol("000100")
    assert (trade.last_price, trade.high_water) == (9_900, 10_000)


def test_a_symbol_whose_lease_is_busy_is_still_marked() -> None:
    world = make_world()
    held(world, "000100")
    world.locks.refuse.add("000100")
    world.broker.set_quote("000100", 10_300)
    check_prices(world.ctx)
    assert world.symbol("000100").high_water == 10_300


def test_a_mark_that_makes_an_exit_due_leaves_the_transition_to_the_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1)))
    held(world, *SYMBOLS)
    world.broker.set_quote("000100", 9_690)  # below the 3 % stop
    world.broker.set_quote("000200", 10_050)
    world.broker.set_quote("000300", 10_050)
    calls = counting(world, monkeypatch)
    result = check_prices(world.ctx)
    (plan,) = result.exits
    assert (plan.symbol, plan.reason) == ("000100", ExitReason.STOP_LOSS)
    assert calls["mark_prices"] == 1 and calls["acquire"] == 0
    assert world.symbol("000100").state is SymbolState.HOLDING  # the exit task moves it
    assert world.symbol("000100").last_price == 9_690
