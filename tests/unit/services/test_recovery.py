"""Reconciliation, the sweep and recovery from a worker that died mid-send."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.orders import OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.records import RecoveryKind, WorkerProcess
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.services.ledger import Writer, open_order
from stock_manager.services.orders import Outcome, enter
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sweep import sweep_locks
from stock_manager.services.sync import sync_orders
from tests.unit.services.conftest import World


def hold(
    world: World,
    symbol: str,
    quantity: int,
    price: int = 70_000,
    state: SymbolState = SymbolState.HOLDING,
) -> None:
    with world.uow:
        trade = world.uow.symbols.get(symbol) or SymbolTrade(symbol)
        world.uow.symbols.save(
            trade, replace(trade, state=state, quantity=quantity, cost=quantity * price)
        )
        world.uow.commit()


def kinds(world: World) -> dict[str, RecoveryKind]:
    with world.uow:
        return {e.symbol or "": e.kind for e in world.uow.recovery.recent()}


def test_each_mismatch_is_classified_and_fixed(world: World) -> None:
    world.broker.set_holding("000660", 5, 100_000)  # orphan: only the broker holds it
    hold(world, "035420", 3)  # missing: only the ledger holds it
    hold(world, "005380", 10)  # drift: both hold, different quantities
    world.broker.set_holding("005380", 7, 70_000)
    hold(world, "051910", 0, state=SymbolState.ENTERING)  # stuck: in flight, no order at all
    world.broker.set_holding("051910", 2, 400_000)
    report = reconcile(world.ctx)
    found = {d.symbol: d.kind for d in report.differences}
    assert found == {
        "000660": RecoveryKind.ORPHAN,
        "035420": RecoveryKind.MISSING,
        "005380": RecoveryKind.QUANTITY_DRIFT,
        "051910": RecoveryKind.STUCK_ORDER,
    }
    assert (world.symbol("000660").state, world.symbol("000660").quantity) == (
        SymbolState.HOLDING,
        5,
    )
    assert world.symbol("000660").cost == 500_000
    assert (world.symbol("035420").state, world.symbol("035420").quantity) == (SymbolState.FLAT, 0)
    assert world.symbol("005380").quantity == 7
    assert (world.symbol("051910").state, world.symbol("051910").quantity) == (
        SymbolState.HOLDING,
        2,
    )
    assert kinds(world) == found
    assert reconcile(world.ctx).differences == ()  # fixed means the next pass finds nothing


def test_orders_we_never_sent_are_recorded_not_quarantined(world: World) -> None:
    world.broker.set_holding("000660", 5, 100_000)
    world.broker.submit(
        OrderRequest("000660", Side.SELL, 5, OrderType.LIMIT, 110_000)
    )  # by hand, in HTS
    report = reconcile(world.ctx)
    assert report.differences == ()  # an order is working there: quantities are in motion
    (external,) = world.orders("000660")
    assert (external.purpose, external.status) == (OrderPurpose.EXTERNAL, OrderStatus.SUBMITTED)
    assert world.symbol("000660").state is SymbolState.FLAT  # not quarantined
    # nothing of ours goes out while someone else's order is working on the symbol
    assert enter(world.ctx, "000660", 1, 100_000, OrderType.LIMIT).outcome is Outcome.SKIPPED


def test_symbols_with_orders_in_flight_are_left_to_order_sync(world: World) -> None:
    enter(world.ctx, "005930", 10, 71_500, OrderType.LIMIT)
    world.broker.fill(world.orders()[0].broker_order_no, 4, 71_500)
    report = reconcile(world.ctx)
    assert report.differences == ()
    assert world.symbol().quantity == 4  # applied through the order's facts, not as drift


def test_a_busy_symbol_is_skipped_for_the_next_cycle(world: World) -> None:
    world.broker.set_holding("000660", 5, 100_000)
    world.locks.refuse.add("000660")
    report = reconcile(world.ctx)
    assert report.skipped == ("000660",)
    assert world.symbol("000660").state is SymbolState.FLAT


def test_a_row_that_moved_since_the_snapshot_is_not_touched(world: World) -> None:
    world.broker.set_holding("000660", 5, 100_000)
    from stock_manager.services import reconcile as module

    original = module._snapshot

    def snapshot_then_move(ctx, rows):  # type: ignore[no-untyped-def]
        snap = original(ctx, rows)
        hold(world, "000660", 5)  # another worker adopts it between snapshot and fix
        return snap

    module._snapshot = snapshot_then_move  # type: ignore[assignment]
    try:
        report = reconcile(world.ctx)
    finally:
        module._snapshot = original  # type: ignore[assignment]
    assert [d.action for d in report.differences] == ["skipped"]


def died_between_submit_and_ack(world: World) -> None:
    """A worker wrote the intent, sent it, and was killed before recording the reply."""
    lease = world.locks.acquire("005930", "doomed", ttl=90)
    assert lease is not None
    w = Writer(lease.fence, world.clock.now(), "doomed")
    with world.uow:
        open_order(
            world.uow,
            w,
            SymbolTrade("005930"),
            SymbolEvent.BUY_SIGNAL,
            Side.BUY,
            10,
            71_500,
            OrderType.LIMIT,
            OrderPurpose.ENTRY,
        )
        world.uow.commit()
    world.broker.submit(OrderRequest("005930", Side.BUY, 10, OrderType.LIMIT, 71_500))


def test_the_sweep_recovers_an_intent_whose_worker_died_after_sending(world: World) -> None:
    died_between_submit_and_ack(world)
    assert sweep_locks(world.ctx).recovered == ()  # the dead worker's lease still counts
    world.clock.advance(91)
    result = sweep_locks(world.ctx)
    assert result.recovered == ("005930",)
    (order,) = world.orders()
    assert (order.status, order.broker_order_no) == (OrderStatus.SUBMITTED, "0000000001")
    assert len(world.broker.rows) == 1
    assert world.symbol().state is SymbolState.ENTERING
    world.broker.fill("0000000001", 10, 71_500)
    sync_orders(world.ctx)
    assert world.symbol().state is SymbolState.HOLDING


def test_the_sweep_marks_silent_workers_gone(world: World) -> None:
    now = world.clock.now()
    with world.uow:
        world.uow.workers.heartbeat(WorkerProcess("w1", "h", 1, now, now - timedelta(minutes=5)))
        world.uow.workers.heartbeat(WorkerProcess("w2", "h", 2, now, now))
        world.uow.commit()
    assert sweep_locks(world.ctx).stale_workers == ("w1",)
    assert kinds(world) == {"": RecoveryKind.STALE_WORKER}


@pytest.mark.parametrize("state", [SymbolState.ENTERING, SymbolState.EXITING])
def test_the_sweep_settles_a_symbol_stuck_in_flight(world: World, state: SymbolState) -> None:
    hold(world, "005930", 10, state=state)
    world.broker.set_holding("005930", 10, 70_000)
    sweep_locks(world.ctx)
    assert world.symbol().state is SymbolState.HOLDING


def test_a_released_quarantine_takes_the_brokers_quantity(world: World) -> None:
    from stock_manager.services.quarantine import release

    hold(world, "000660", 4, state=SymbolState.QUARANTINED)
    world.broker.set_holding("000660", 6, 100_000)
    result = release(world.ctx, "000660", "checked the fills by hand")
    assert result.released
    trade = world.symbol("000660")
    assert (trade.state, trade.quantity, trade.cost) == (SymbolState.HOLDING, 6, 600_000)
    assert not release(world.ctx, "000660").released  # not quarantined any more


def test_a_quarantine_is_not_released_while_an_order_may_be_live(world: World) -> None:
    from stock_manager.services.quarantine import release

    enter(world.ctx, "005930", 1, 71_500, OrderType.LIMIT)
    with world.uow:
        trade = world.uow.symbols.get("005930")
        assert trade is not None
        world.uow.symbols.save(trade, replace(trade, state=SymbolState.QUARANTINED))
        world.uow.commit()
    result = release(world.ctx, "005930")
    assert not result.released
    assert "may be live" in result.detail
