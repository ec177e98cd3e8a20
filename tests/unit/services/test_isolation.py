"""One symbol's trouble stays with that symbol (issue 12, item 6), and no exception escapes a
task unless Celery retries it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from stock_manager.domain.broker import BrokerUnavailable
from stock_manager.domain.errors import InvalidTransition, StaleWrite
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import OrderType
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.services import prices
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.isolation import per_symbol
from stock_manager.services.prices import check_prices
from stock_manager.services.sync import sync_orders
from tests.fakes.uow import FakeSymbols
from tests.unit.services.conftest import World

SYMBOLS = ("005930", "000660", "035420", "051910")


def hold_all(world: World) -> None:
    for symbol in SYMBOLS:
        world.broker.set_quote(symbol, 10_000)
        result = enter_checked(world.ctx, EntryPlan(symbol, 10, 10_000, OrderType.LIMIT, "s"))
        order = world.orders(symbol)[-1]
        assert result.outcome.value == "submitted"
        world.broker.fill(order.broker_order_no, 10, 10_000)
    sync_orders(world.ctx)
    assert {world.symbol(s).state for s in SYMBOLS} == {SymbolState.HOLDING}


def test_a_price_check_goes_on_for_every_other_symbol(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four held symbols, all below the stop; three of them fail in three ways while being
    judged. The fourth still gets its stop-loss, the contradiction is quarantined."""
    hold_all(world)
    for symbol in SYMBOLS:
        world.broker.set_quote(symbol, 9_000)  # -10 %: every one is due a stop-loss
    failures = {
        "005930": StaleWrite("moved under us"),
        "000660": InvalidTransition("symbol", SymbolState.FLAT, SymbolEvent.SELL_FILLED),
        "035420": RuntimeError("a bug"),
    }
    judged = prices.exit_due

    def failing(ctx: Any, trade: SymbolTrade, *args: Any) -> prices.ExitPlan | None:
        if trade.symbol in failures:
            raise failures[trade.symbol]
        return judged(ctx, trade, *args)

    monkeypatch.setattr(prices, "exit_due", failing)

    result = check_prices(world.ctx)

    assert [(p.symbol, p.reason) for p in result.exits] == [("051910", ExitReason.STOP_LOSS)]
    assert world.symbol("000660").state is SymbolState.QUARANTINED  # a person looks
    assert world.symbol("005930").state is SymbolState.HOLDING  # next pass
    assert "symbol_error" in world.notifier.kinds()  # the bug is reported
    assert "quarantine" in world.notifier.kinds()


def test_a_failed_mark_write_still_lets_the_exits_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_all(world)
    for symbol in SYMBOLS:
        world.broker.set_quote(symbol, 9_000)

    def broken(self: object, prices: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(FakeSymbols, "mark_prices", broken)
    result = check_prices(world.ctx)
    assert sorted(p.symbol for p in result.exits) == sorted(SYMBOLS)
    assert "symbol_error" in world.notifier.kinds()


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (StaleWrite("x"), SymbolState.HOLDING),
        (BrokerUnavailable("x"), SymbolState.HOLDING),
        (
            InvalidTransition("symbol", SymbolState.FLAT, SymbolEvent.SELL_FILLED),
            SymbolState.QUARANTINED,
        ),
        (KeyError("x"), SymbolState.HOLDING),
    ],
)
def test_each_kind_of_failure_is_dealt_with_by_kind(
    world: World, error: Exception, state: SymbolState
) -> None:
    hold_all(world)

    def step() -> str:
        raise error

    assert per_symbol(world.ctx, "005930", "test", step, "default") == "default"
    assert world.symbol("005930").state is state


def test_no_exception_escapes_a_task_unless_celery_retries_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tasks._runtime import Contained, contained

    @contained
    def broken(symbol: str) -> str:
        raise ValueError("bad input")

    @contained
    def flaky(symbol: str) -> str:
        raise BrokerUnavailable("try again")

    with caplog.at_level(logging.ERROR, logger="stock_manager.tasks"):
        result = broken("005930")
    assert isinstance(result, Contained) and result == "error: ValueError"
    (record,) = caplog.records
    assert "task broken failed for 005930: ValueError: bad input" in record.getMessage()
    with pytest.raises(BrokerUnavailable):  # autoretry_for retries it
        flaky("005930")
