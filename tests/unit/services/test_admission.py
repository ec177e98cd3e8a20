"""Admission: every cap is checked and reserved in the step that writes the intent, counting
everything in flight, and an entry is priced from a fresh quote, never from its message.

Other entries are run *while* an entry is being sent (inside the fake broker's ``submit``),
which is the moment two workers race: the first intent is committed as NEW and has not
reached the broker yet."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from stock_manager.domain.broker import OrderOutcomeUnknown, OrderRequest
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderStatus, OrderType, Side
from stock_manager.domain.risk import Cap, RiskLimits
from stock_manager.domain.trade import SymbolState
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.orders import Outcome, SendResult
from tests.unit.services.conftest import World, make_world

A, B = "005930", "000660"


def market_with(world: World, *symbols: str, price: int = 10_000) -> None:
    for symbol in symbols:
        world.broker.set_quote(symbol, price)
        world.broker.set_book(symbol, asks=[(price, 10_000)], bids=[(price - 10, 10_000)])


def limit(symbol: str, quantity: int, price: int = 10_000) -> EntryPlan:
    return EntryPlan(symbol, quantity, price, OrderType.LIMIT, "momentum")


def during_send_of(world: World, symbol: str, action: Callable[[], SendResult]) -> list[SendResult]:
    """Run ``action`` while ``symbol``'s order is being sent (its intent is NEW)."""
    submit, seen = world.broker.submit, []

    def racing(request: OrderRequest):  # type: ignore[no-untyped-def]
        if request.symbol == symbol and not seen:
            seen.append(action())
        return submit(request)

    world.broker.submit = racing  # type: ignore[method-assign]
    return seen


def test_an_entry_still_being_sent_counts_against_the_total_notional(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the logger's own level: a test before this one may have configured "stock_manager"
    caplog.set_level(logging.WARNING, logger="stock_manager.services.entry")
    world = make_world(
        risk=RiskLimits(max_notional_per_symbol=1_000_000, max_total_notional=1_500_000)
    )
    market_with(world, A, B)
    raced = during_send_of(world, A, lambda: enter_checked(world.ctx, limit(B, 100)))
    assert enter_checked(world.ctx, limit(A, 100)).outcome is Outcome.SUBMITTED
    (refused,) = raced
    assert refused.outcome is Outcome.SKIPPED
    assert [r.cap for r in refused.refusals] == [Cap.TOTAL_NOTIONAL]
    assert "max_total_notional" in refused.detail
    assert refused.summary == "refused [max_total_notional]"  # what the task returns
    assert "entry 000660 100 x LIMIT at 10,000 refused [max_total_notional]" in caplog.text
    assert world.submits() == 1
    assert world.symbol(B).state is SymbolState.FLAT


def test_an_entry_still_being_sent_counts_against_max_positions() -> None:
    world = make_world(risk=RiskLimits(max_positions=1))
    market_with(world, A, B)
    raced = during_send_of(world, A, lambda: enter_checked(world.ctx, limit(B, 10)))
    assert enter_checked(world.ctx, limit(A, 10)).outcome is Outcome.SUBMITTED
    assert [r.cap for r in raced[0].refusals] == [Cap.POSITIONS]


def test_a_market_buy_in_doubt_reserves_its_quoted_notional() -> None:
    """An UNKNOWN market-type buy has no price of its own: it still holds its reservation."""
    world = make_world(
        risk=RiskLimits(max_notional_per_symbol=1_000_000, max_total_notional=1_500_000)
    )
    market_with(world, A, B)
    world.broker.fail_next_submit(OrderOutcomeUnknown("timeout"))
    plan = EntryPlan(A, 100, 0, OrderType.MARKET, "momentum")
    assert enter_checked(world.ctx, plan).outcome is Outcome.UNKNOWN
    (order,) = world.orders(A)
    assert (order.status, order.price, order.reserve_price) == (OrderStatus.UNKNOWN, 0, 10_000)
    refused = enter_checked(world.ctx, limit(B, 100))
    assert [r.cap for r in refused.refusals] == [Cap.TOTAL_NOTIONAL]


def test_the_order_rate_is_counted_in_the_same_step() -> None:
    world = make_world(risk=RiskLimits(max_orders_per_minute=1))
    market_with(world, A, B)
    raced = during_send_of(world, A, lambda: enter_checked(world.ctx, limit(B, 10)))
    assert enter_checked(world.ctx, limit(A, 10)).outcome is Outcome.SUBMITTED
    assert [r.cap for r in raced[0].refusals] == [Cap.ORDER_RATE]


def test_a_daily_loss_refuses_by_name_and_halts() -> None:
    world = make_world(risk=RiskLimits(max_daily_loss=5_000))
    market_with(world, A, B)
    assert enter_checked(world.ctx, limit(A, 10)).outcome is Outcome.SUBMITTED
    (order,) = world.orders(A)
    world.broker.fill(order.broker_order_no or "", 10, 10_000)
    from stock_manager.services.sync import sync_orders

    sync_orders(world.ctx)
    world.broker.set_quote(A, 9_000)
    with world.uow:  # what the price check's batched mark writes
        world.uow.symbols.mark_prices({A: 9_000})  # 10 x -1,000 won
        world.uow.commit()
    refused = enter_checked(world.ctx, limit(B, 10))
    assert Cap.DAILY_LOSS in [r.cap for r in refused.refusals]
    with world.uow:
        assert world.uow.market.get(world.day) is MarketState.STOPPED


def test_a_crafted_market_entry_is_priced_from_the_quote_not_its_message() -> None:
    """Issue 13: quantity 3,000, price 1, market type bought 6.39 M won against a 1.5 M cap."""
    world = make_world(risk=RiskLimits(max_notional_per_symbol=1_500_000))
    market_with(world, A, price=2_130)
    result = enter_checked(world.ctx, EntryPlan(A, 3_000, 1, OrderType.MARKET, "x"))
    assert result.outcome is Outcome.SKIPPED
    assert [r.cap for r in result.refusals] == [Cap.SYMBOL_NOTIONAL]
    assert "6,390,000" in result.detail
    assert world.submits() == 0


def test_a_market_buy_reserves_what_the_book_would_cost_or_the_upper_limit() -> None:
    world = make_world(risk=RiskLimits(max_notional_per_symbol=1_000_000))
    world.broker.set_quote(A, 10_000)
    world.broker.set_book(A, asks=[(10_000, 40), (10_050, 100)], bids=[(9_990, 10)])
    assert enter_checked(world.ctx, EntryPlan(A, 60, 0, OrderType.MARKET, "x")).outcome is (
        Outcome.SUBMITTED
    )
    assert world.orders(A)[0].reserve_price == 10_050  # the level that completes 60 shares
    world.broker.set_quote(B, 10_000)
    world.broker.set_book(B, asks=[], bids=[])  # no ask at all: the upper limit
    result = enter_checked(world.ctx, EntryPlan(B, 90, 0, OrderType.BEST, "x"))
    assert [r.cap for r in result.refusals] == [Cap.SYMBOL_NOTIONAL]
    assert "1,170,000" in result.detail  # 90 x 13,000


def test_zero_and_negative_quantities_and_limit_prices_are_refused_by_name(world: World) -> None:
    market_with(world, A)
    for plan, cap in [
        (limit(A, 0), Cap.QUANTITY),
        (limit(A, -5), Cap.QUANTITY),
        (limit(A, 10, price=0), Cap.PRICE),
        (limit(A, 10, price=-10_000), Cap.PRICE),
    ]:
        result = enter_checked(world.ctx, plan)
        assert result.outcome is Outcome.SKIPPED, plan
        assert cap in [r.cap for r in result.refusals], (plan, result.detail)
    assert world.submits() == 0


def test_an_unknown_symbol_is_refused_not_raised(world: World) -> None:
    result = enter_checked(world.ctx, limit("999999", 1))
    assert result.outcome is Outcome.SKIPPED
    assert [r.cap for r in result.refusals] == [Cap.SYMBOL]
    assert world.submits() == 0


def test_a_buy_intent_records_what_it_reserved_under_the_days_lock(world: World) -> None:
    market_with(world, A)
    assert world.uow.committed.locks == []
    assert enter_checked(world.ctx, limit(A, 10, price=10_050)).outcome is Outcome.SUBMITTED
    assert world.uow.committed.locks == [world.day]  # taken in the intent's transaction
    (order,) = world.orders(A)
    assert (order.side, order.price, order.reserve_price) == (Side.BUY, 10_050, 10_050)
