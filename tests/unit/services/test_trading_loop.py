"""Scans, price checks, exits, the dead-man switch and liquidation, on fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from stock_manager.domain.broker import Candle, RankedStock
from stock_manager.domain.exits import ExitPolicy, ExitReason
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.risk import RiskLimits
from stock_manager.domain.tick_sanity import TickSanity
from stock_manager.domain.trade import SymbolState
from stock_manager.domain.trading_state import TickState
from stock_manager.services.context import LiquidationPolicy
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.health import PRICE_CHECK, dead_man_check
from stock_manager.services.liquidation import liquidate_round, liquidation_due
from stock_manager.services.orders import Outcome
from stock_manager.services.prices import check_prices, on_tick
from stock_manager.services.scan import scan
from stock_manager.services.sync import sync_orders
from stock_manager.strategies.momentum import MomentumBreakout
from tests.unit.services.conftest import World, make_world


def breakout(world: World, symbol: str = "005930") -> None:
    """20 quiet minutes at 10,000, then a minute at 10,100 on triple volume."""
    now = world.clock.now()
    world.broker.minute[symbol] = [
        Candle(symbol, now - timedelta(minutes=21 - i), 10_000, 10_010, 9_990, 10_000, 1_000)
        for i in range(20)
    ] + [Candle(symbol, now, 10_000, 10_100, 10_000, 10_100, 3_000)]
    world.broker.set_quote(symbol, 10_100, ask=10_110, volume=200_000, turnover=2_000_000_000)
    world.broker.set_book(symbol, asks=[(10_110, 500)], bids=[(10_100, 500)])
    world.broker.rank = [RankedStock(1, symbol, "삼성전자", 10_100, Decimal(1), 200_000, 1)]


def holding(world: World, quantity: int = 10, price: int = 10_000) -> None:
    world.broker.set_quote("005930", price)
    world.broker.set_book("005930", asks=[(price + 10, 100)], bids=[(price, 100)])
    result = enter_checked(
        world.ctx, EntryPlan("005930", quantity, price, OrderType.LIMIT, "momentum_breakout")
    )
    assert result.outcome is Outcome.SUBMITTED, result.detail
    (order,) = [o for o in world.orders() if o.side is Side.BUY]
    world.broker.fill(order.broker_order_no, quantity, price)
    sync_orders(world.ctx)
    assert world.symbol().state is SymbolState.HOLDING


def test_scan_plans_a_sized_marketable_entry_for_a_breakout() -> None:
    world = make_world(
        strategies=(MomentumBreakout(),), risk=RiskLimits(max_notional_per_symbol=1_000_000)
    )
    breakout(world)
    result = scan(world.ctx)
    (plan,) = result.plans
    assert (plan.symbol, plan.price, plan.order_type) == ("005930", 10_110, OrderType.LIMIT)
    assert plan.quantity == 1_000_000 // 10_110
    assert plan.strategy == "momentum_breakout"


def test_scan_filters_and_skips_held_symbols() -> None:
    world = make_world(strategies=(MomentumBreakout(),))
    breakout(world)
    world.broker.set_quote("005930", 10_100, volume=10, turnover=100)  # too thin
    result = scan(world.ctx)
    assert result.plans == ()
    assert "volume" in result.refused["005930"]


def test_scan_does_nothing_when_entries_are_closed(world: World) -> None:
    world.set_market(MarketState.STOPPED)
    assert "STOPPED" in scan(world.ctx).skipped
    assert world.broker.calls == []


def test_entries_are_refused_with_every_reason(world: World) -> None:
    world.set_market(MarketState.STOPPED)
    result = enter_checked(world.ctx, EntryPlan("005930", 10, 71_505, OrderType.LIMIT, "s"))
    assert result.outcome is Outcome.SKIPPED
    assert "STOPPED" in result.detail
    assert "tick" in result.detail


def test_price_check_marks_and_raises_the_high_water(world: World) -> None:
    holding(world)
    world.broker.set_quote("005930", 10_200)
    result = check_prices(world.ctx)
    assert result.marked == 1
    assert (world.symbol().last_price, world.symbol().high_water) == (10_200, 10_200)
    assert result.exits == ()


def test_a_stop_loss_is_planned_by_the_poll_and_sent_by_a_tick() -> None:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1)))
    holding(world)
    world.broker.set_quote("005930", 9_690)
    (plan,) = check_prices(world.ctx).exits
    assert plan.reason is ExitReason.STOP_LOSS
    result = on_tick(world.ctx, "005930", 9_690)
    assert result is not None
    assert result.outcome is Outcome.SUBMITTED
    sell = world.orders()[-1]
    assert (sell.side, sell.order_type, sell.quantity) == (Side.SELL, OrderType.BEST, 10)
    assert world.symbol().state is SymbolState.EXITING


def test_a_tick_that_breaks_nothing_sends_nothing(world: World) -> None:
    holding(world)
    assert on_tick(world.ctx, "005930", 10_050) is None
    assert world.symbol().state is SymbolState.HOLDING
    assert (world.symbol().last_price, world.symbol().high_water) == (10_050, 10_050)


def test_a_stop_tick_marks_and_writes_the_intent_in_one_commit_before_the_sell() -> None:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1)))
    holding(world)
    assert on_tick(world.ctx, "005930", 10_020) is None
    submit = world.broker.submit
    commits = world.uow.commits
    seen_at_submit = []

    def watching(request):  # type: ignore[no-untyped-def]
        trade = world.symbol()
        seen_at_submit.append((trade.state, trade.last_price, world.uow.commits - commits))
        return submit(request)

    world.broker.submit = watching  # type: ignore[method-assign]
    result = on_tick(world.ctx, "005930", 9_690)
    assert result is not None and result.outcome is Outcome.SUBMITTED
    # one commit stood between the crossing tick and the sell: the mark and the intent
    assert seen_at_submit == [(SymbolState.EXITING, 9_690, 1)]


def test_a_stop_tick_waits_out_a_new_high_tick_holding_the_lease() -> None:
    """Issue 16: the stream sends a crossing tick at once, so it can reach a worker while the
    tick before it (a new high) still holds the lease; the stop must not be dropped."""
    import threading

    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1)))
    holding(world)
    marking = world.locks.acquire("005930", "the new high's worker", 30)
    assert marking is not None
    threading.Timer(0.05, world.locks.release, [marking]).start()
    result = on_tick(world.ctx, "005930", 9_690)
    assert result is not None and result.outcome is Outcome.SUBMITTED
    assert world.symbol().state is SymbolState.EXITING


def test_a_new_high_is_marked_without_the_lease() -> None:
    """Issue 16: a new high that makes no exit due takes no lease, so an exit tick right
    behind it never waits for it; the mark is made while another task holds the lease."""
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(50), Decimal(2), timedelta(hours=1)))
    holding(world)
    busy = world.locks.acquire("005930", "another task of the symbol", 30)
    assert busy is not None
    fence, version = world.symbol().fence, world.symbol().version
    assert on_tick(world.ctx, "005930", 10_300, high=10_500) is None
    trade = world.symbol()
    assert (trade.last_price, trade.high_water) == (10_300, 10_500)
    assert (trade.fence, trade.version) == (fence, version)  # a mark, not a state write
    assert world.locks.held() == [busy]


def test_a_new_high_never_becomes_the_next_trades_peak() -> None:
    """The lease-free mark is for the round trip it judged: once the symbol has started
    another, the old trade's high is not written into it (issue 13: fresh round trips)."""
    world = make_world()
    holding(world)
    trade = world.symbol()
    with world.uow as uow:
        assert not uow.symbols.mark_high("005930", trade.trade_seq + 1, 10_300, 12_000)
        assert uow.symbols.mark_high("005930", trade.trade_seq, 10_300, 12_000)
        uow.commit()
    assert world.symbol().high_water == 12_000


@pytest.mark.parametrize(
    ("hour_code", "halted", "sent"),
    [("0", False, (OrderType.BEST, 0)), ("C", False, (OrderType.LIMIT, 7_000))],
)
def test_a_crossing_tick_with_its_records_state_reads_no_quote(
    hour_code: str, halted: bool, sent: tuple[OrderType, int]
) -> None:
    """Issue 16: the stream sends the record's trading state and the day's band with the
    tick, so the stop goes out without a quote read (each one a rate-limit slot, 50 ms at
    20 req/s, on the way to the sell) and in the order type the state accepts."""
    world = make_world()
    holding(world)
    fresh = replace(world.ctx, sanity=TickSanity())  # a pool process that knows no band yet
    world.broker.calls.clear()
    seen = TickState(hour_code, halted, PriceLimits(10_000, 13_000, 7_000))
    result = on_tick(fresh, "005930", 9_690, seen=seen)
    assert result is not None and result.outcome is Outcome.SUBMITTED
    assert [c for c, _ in world.broker.calls if c in ("quote", "quotes")] == []
    sell = world.orders()[-1]
    assert (sell.side, sell.order_type, sell.price) == (Side.SELL, *sent)


def test_a_tick_counts_the_high_the_stream_coalesced_away() -> None:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1)))
    holding(world)  # at 10,000; the stream saw 10,400 but sent only the fall to 10,190
    result = on_tick(world.ctx, "005930", 10_190, high=10_400)
    assert result is not None and result.outcome is Outcome.SUBMITTED  # trailing: 2 % under
    assert world.symbol().high_water == 10_400


def test_a_trailing_stop_from_a_tick_counts_the_high_it_just_set() -> None:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(50), Decimal(2), timedelta(hours=1)))
    holding(world)
    assert on_tick(world.ctx, "005930", 11_000) is None
    assert world.symbol().high_water == 11_000
    result = on_tick(world.ctx, "005930", 10_770)  # 2.1 % under the new high, above entry
    assert result is not None and result.outcome is Outcome.SUBMITTED
    assert world.orders()[-1].side is Side.SELL


def test_a_tick_for_a_symbol_not_held_does_nothing(world: World) -> None:
    holding(world)
    on_tick(world.ctx, "005930", 9_000)  # the stop: now EXITING
    assert world.submits() == 2
    commits = world.uow.commits
    assert on_tick(world.ctx, "005930", 8_000) is None
    assert world.submits() == 2
    assert world.uow.commits == commits


def test_an_uneventful_tick_writes_nothing(world: World) -> None:
    """The stream's gate keeps such ticks from the workers; one that slips through (judged
    from a stale snapshot) costs a lease and a read, never a write."""
    holding(world)  # bought at 10,000; high-water 10,000
    commits = world.uow.commits
    assert on_tick(world.ctx, "005930", 9_950) is None  # below the high, above the stop
    assert world.uow.commits == commits
    assert on_tick(world.ctx, "005930", 10_100) is None  # a new high is worth a write
    assert world.symbol().high_water == 10_100
    assert world.uow.commits == commits + 1


def test_a_daily_loss_breach_halts_entries_and_alerts() -> None:
    world = make_world(risk=RiskLimits(max_daily_loss=5_000))
    holding(world)
    world.broker.set_quote("005930", 9_000)
    check_prices(world.ctx)
    with world.uow:
        assert world.uow.market.get(world.day) is MarketState.STOPPED
    assert "daily_loss" in world.notifier.kinds()


def test_the_dead_man_switch_halts_when_price_checks_go_silent(world: World) -> None:
    with world.uow:
        world.uow.task_runs.succeeded(PRICE_CHECK, world.clock.now())
        world.uow.commit()
    world.clock.advance(10)
    assert dead_man_check(world.ctx) is False
    world.clock.advance(30)
    assert dead_man_check(world.ctx) is True
    with world.uow:
        assert world.uow.market.get(world.day) is MarketState.STOPPED
    assert world.notifier.kinds() == ["dead_man"]


def at_liquidation(world: World) -> None:
    world.clock.moment = world.clock.moment.replace(hour=15, minute=11)


def test_liquidation_waits_for_its_time_when_scheduled(world: World) -> None:
    holding(world)
    report = liquidate_round(world.ctx, scheduled=True)
    assert not report.ran
    assert "not due" in report.note


@pytest.mark.parametrize(("ticks", "limit"), [(3, 9_970), (0, 10_000), (80, 9_500)])
def test_liquidation_cancels_buys_sells_below_the_bid_and_confirms_flat(
    ticks: int, limit: int
) -> None:
    """The first sell is a limit ``limit_ticks`` under the best bid (10,000 here), never
    under the day's lower limit (9,500 in this test's band): it trades at the bids' own
    prices, and a bid that slipped a tick or two still meets it (issue 16, item 3)."""
    world = make_world(liquidation=LiquidationPolicy(limit_ticks=ticks))
    holding(world)
    world.ctx.sanity.learn("005930", world.day, PriceLimits(10_000, 10_500, 9_500))
    world.broker.set_quote("000660", 100_000)
    enter_checked(world.ctx, EntryPlan("000660", 1, 100_000, OrderType.LIMIT, "s"))
    at_liquidation(world)
    first = liquidate_round(world.ctx, scheduled=True)
    assert first.ran
    assert not first.done
    with world.uow:
        assert world.uow.market.get(world.day) is MarketState.CLOSING
    buy = next(o for o in world.orders() if o.symbol == "000660")
    sell = next(o for o in world.orders() if o.side is Side.SELL)
    assert buy.status is OrderStatus.CANCELED  # cancelled and confirmed in the same round
    assert (sell.order_type, sell.price, sell.purpose) == (
        OrderType.LIMIT,
        limit,
        OrderPurpose.LIQUIDATION,
    )
    world.broker.fill(sell.broker_order_no, 10, 10_000)
    world.clock.advance(5)
    final = liquidate_round(world.ctx)
    assert final.done
    assert final.flat
    assert world.symbol().state is SymbolState.FLAT


def test_a_liquidation_sell_costs_one_orderbook_read_and_no_quote(world: World) -> None:
    """The book's summary says the VI state and the base price: a quote as well was a third
    request per symbol (306 for 100 positions against a floor of 206, issue 16 item 3)."""
    holding(world)
    at_liquidation(world)
    world.broker.calls.clear()
    liquidate_round(world.ctx, scheduled=True)
    reads = [c for c, args in world.broker.calls if args[:1] == ("005930",)]
    assert reads.count("orderbook") == 1
    assert "quote" not in reads and "quotes" not in reads


def test_the_confirming_round_reads_the_orders_and_the_balance_once_each(world: World) -> None:
    holding(world)
    at_liquidation(world)
    liquidate_round(world.ctx)
    sell = next(o for o in world.orders() if o.side is Side.SELL)
    world.broker.fill(sell.broker_order_no, 10, 10_000)
    world.clock.advance(5)
    world.broker.calls.clear()
    final = liquidate_round(world.ctx)  # reconcile applies the fill: nothing left in play
    assert final.flat
    reads = [name for name, _ in world.broker.calls if name in ("orders", "balance")]
    assert sorted(reads) == ["balance", "orders"]


def test_a_stale_sell_escalates_to_market(world: World) -> None:
    holding(world)
    at_liquidation(world)
    liquidate_round(world.ctx)
    world.clock.advance(25)  # the marketable limit is still open after escalate_after
    liquidate_round(world.ctx)
    world.clock.advance(5)
    liquidate_round(world.ctx)
    sells = [o for o in world.orders() if o.side is Side.SELL]
    assert [o.order_type for o in sells] == [OrderType.LIMIT, OrderType.MARKET]
    assert sells[0].status is OrderStatus.CANCELED


def test_rounds_are_spaced_so_many_triggers_make_one_chain(world: World) -> None:
    holding(world)
    at_liquidation(world)
    assert liquidate_round(world.ctx).ran
    assert not liquidate_round(world.ctx).ran  # a second trigger within the round interval
    assert not liquidation_due(world.ctx)  # nor does the deadline guard start another


def test_past_the_hard_cut_nothing_is_sent_and_an_alert_goes_out(world: World) -> None:
    holding(world)
    world.clock.moment = world.clock.moment.replace(hour=15, minute=19, second=30)
    report = liquidate_round(world.ctx)
    assert report.done
    assert not report.flat
    assert report.remaining == ("005930",)
    assert [o.side for o in world.orders()] == [Side.BUY]
    assert "liquidation_incomplete" in world.notifier.kinds()


def test_the_deadline_guard_starts_a_missed_liquidation(world: World) -> None:
    holding(world)
    assert not liquidation_due(world.ctx)
    at_liquidation(world)
    assert liquidation_due(world.ctx)


def test_liquidation_by_hand_halts_entries_even_before_the_session_opens(world: World) -> None:
    world.set_market(MarketState.READY)
    liquidate_round(world.ctx)
    with world.uow:
        assert world.uow.market.get(world.day) is MarketState.STOPPED
