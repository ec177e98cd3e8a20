"""Entries, exits and cancels through the ledger, against the fake broker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stock_manager.domain.broker import BrokerRejected, BrokerUnavailable, OrderOutcomeUnknown
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderPurpose, OrderStatus, OrderType
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import Lease
from stock_manager.services.leasing import TRUSTED_SHARE, LeaseLost, symbol_lease
from stock_manager.services.orders import Outcome, cancel_order, enter, exit_position
from stock_manager.services.sync import sync_orders
from tests.unit.services.conftest import World


def buy(world: World, quantity: int = 10) -> Outcome:
    return enter(world.ctx, "005930", quantity, 71_500, OrderType.LIMIT, "momentum").outcome


def test_a_round_trip_follows_the_broker(world: World) -> None:
    assert buy(world) is Outcome.SUBMITTED
    assert world.symbol().state is SymbolState.ENTERING
    (order,) = world.orders()
    world.broker.fill(order.broker_order_no, 4, 71_500)
    sync_orders(world.ctx)
    assert world.symbol().state is SymbolState.ENTERING
    assert world.symbol().quantity == 4
    world.broker.fill(order.broker_order_no, 6, 71_400)
    sync_orders(world.ctx)
    held = world.symbol()
    assert (held.state, held.quantity, held.cost) == (
        SymbolState.HOLDING,
        10,
        4 * 71_500 + 6 * 71_400,
    )
    assert held.strategy == "momentum"

    result = exit_position(world.ctx, "005930", OrderType.LIMIT, 72_000)
    assert result.outcome is Outcome.SUBMITTED
    sell = world.orders()[-1]
    assert (sell.quantity, sell.purpose) == (10, OrderPurpose.EXIT)
    world.broker.fill(sell.broker_order_no, 10, 72_000)
    sync_orders(world.ctx)
    assert world.symbol().state is SymbolState.FLAT
    assert world.symbol().quantity == 0
    with world.uow:
        assert sum(f.quantity for f in world.uow.fills.for_day(world.day)) == 20


def test_the_kill_switch_blocks_entries_but_not_exits(world: World) -> None:
    world.broker.set_holding("005930", 10, 70_000)
    world.broker.set_quote("000660", 100_000)  # a listed symbol: only the switch stops it
    world.set_market(MarketState.STOPPED)
    result = enter(world.ctx, "000660", 1, 100_000, OrderType.LIMIT)
    assert result.outcome is Outcome.SKIPPED
    assert "STOPPED" in result.detail
    assert world.submits() == 0
    # a position held when the switch was thrown can still be sold
    from stock_manager.services.reconcile import reconcile

    reconcile(world.ctx)
    assert exit_position(world.ctx, "005930", OrderType.BEST, 0).outcome is Outcome.SUBMITTED


def test_a_rejected_entry_returns_the_symbol_to_flat(world: World) -> None:
    world.broker.fail_next_submit(BrokerRejected("장종료", code="40580000"))
    result = enter(world.ctx, "005930", 10, 71_500, OrderType.LIMIT)
    assert result.outcome is Outcome.REJECTED
    assert "40580000" in result.detail
    assert world.statuses() == [OrderStatus.REJECTED]
    assert world.symbol().state is SymbolState.FLAT


def test_a_request_that_never_left_is_rejected_and_can_be_retried(world: World) -> None:
    world.broker.fail_next_submit(BrokerUnavailable("connect refused"))
    assert buy(world) is Outcome.REJECTED
    assert buy(world) is Outcome.SUBMITTED
    keys = [o.idempotency_key.split(":", 3)[3] for o in world.orders()]
    assert keys == ["1:0", "2:0"]  # a new trade, never the same intent twice


def test_accept_then_timeout_is_adopted_at_once_not_resent(world: World) -> None:
    world.broker.fail_next_submit(OrderOutcomeUnknown("read timeout"), accepted=True)
    assert buy(world) is Outcome.SUBMITTED  # looked up right after the ambiguous reply
    assert "order_unknown" in world.notifier.kinds()
    assert "order_resolved" in world.notifier.kinds()
    (order,) = world.orders()
    assert (order.status, order.broker_order_no) == (OrderStatus.SUBMITTED, "0000000001")
    assert world.ctx.tasks.pending == []  # type: ignore[attr-defined]  # decided: no follow-up
    assert buy(world) is Outcome.SKIPPED  # no new order while one is live
    sync_orders(world.ctx)
    assert world.submits() == 1  # the second intent was refused before reaching the broker
    assert len(world.broker.rows) == 1  # so the broker holds exactly one order


def test_an_unknown_send_the_broker_never_saw_is_rejected_once_provable(world: World) -> None:
    world.broker.fail_next_submit(OrderOutcomeUnknown("read timeout"), accepted=False)
    assert buy(world) is Outcome.UNKNOWN
    sync_orders(world.ctx)
    assert world.statuses() == [OrderStatus.UNKNOWN]  # absence is not proof yet
    ((task, args, countdown),) = world.ctx.tasks.pending  # type: ignore[attr-defined]
    assert (task, args[1]) == ("tasks.orders.resolve_order", 1)
    assert countdown <= world.ctx.policy.unknown_propagation.total_seconds() + 0.1
    world.clock.advance(world.ctx.policy.unknown_propagation.total_seconds())
    sync_orders(world.ctx)
    assert world.statuses() == [OrderStatus.REJECTED]
    assert world.symbol().state is SymbolState.FLAT


def test_a_redelivered_entry_changes_nothing(world: World) -> None:
    assert buy(world) is Outcome.SUBMITTED
    again = enter(world.ctx, "005930", 10, 71_500, OrderType.LIMIT, "momentum")
    assert again.outcome is Outcome.SKIPPED
    assert len(world.broker.rows) == 1
    assert len(world.orders()) == 1


def test_a_busy_symbol_is_left_alone(world: World) -> None:
    world.locks.refuse.add("005930")
    assert buy(world) is Outcome.BUSY
    assert world.orders() == []


def test_cancel_a_partly_filled_entry_holds_what_filled(world: World) -> None:
    buy(world)
    (order,) = world.orders()
    world.broker.fill(order.broker_order_no, 3, 71_500)
    result = cancel_order(world.ctx, order.id or 0)
    assert result.outcome is Outcome.SUBMITTED
    assert world.orders()[0].status is OrderStatus.CANCEL_PENDING
    sync_orders(world.ctx)
    assert world.orders()[0].status is OrderStatus.CANCELED
    assert (world.symbol().state, world.symbol().quantity) == (SymbolState.HOLDING, 3)


def test_a_cancel_that_finds_nothing_left_restores_the_order(world: World) -> None:
    buy(world)
    (order,) = world.orders()
    world.broker.fill(order.broker_order_no, 10, 71_500)  # filled before the cancel lands
    assert cancel_order(world.ctx, order.id or 0).outcome is Outcome.REJECTED
    assert world.orders()[0].status is OrderStatus.SUBMITTED
    sync_orders(world.ctx)
    assert world.orders()[0].status is OrderStatus.FILLED
    assert world.symbol().state is SymbolState.HOLDING


def test_sync_is_idempotent(world: World) -> None:
    buy(world)
    (order,) = world.orders()
    world.broker.fill(order.broker_order_no, 10, 71_500)
    first = sync_orders(world.ctx)
    second = sync_orders(world.ctx)
    assert (first.changed, second.changed) == (1, 0)


def test_an_exit_sells_what_the_ledger_holds_once(world: World) -> None:
    buy(world)
    world.broker.fill(world.orders()[0].broker_order_no, 10, 71_500)
    sync_orders(world.ctx)
    assert exit_position(world.ctx, "005930", OrderType.BEST, 0).outcome is Outcome.SUBMITTED
    assert exit_position(world.ctx, "005930", OrderType.BEST, 0).outcome is Outcome.SKIPPED
    assert world.symbol().state is SymbolState.EXITING


def test_an_order_type_the_environment_lacks_is_refused(world: World) -> None:
    from dataclasses import replace

    from stock_manager.domain.orders import PAPER_ORDER_TYPES

    ctx = replace(world.ctx, policy=replace(world.ctx.policy, order_types=PAPER_ORDER_TYPES))
    result = enter(ctx, "005930", 1, 71_500, OrderType.IOC_LIMIT)
    assert result.outcome is Outcome.SKIPPED
    assert "IOC_LIMIT" in result.detail


def test_lost_lease_before_send_sends_nothing(world: World) -> None:
    """The worker stalls past its lease's TTL between taking it and sending: the renewal
    before the send finds the lease gone, so nothing goes out."""
    acquire = world.locks.acquire

    def acquire_then_stall(symbol: str, owner: str, ttl: float) -> Lease | None:
        lease = acquire(symbol, owner, ttl)
        world.clock.advance(ttl)
        return lease

    world.locks.acquire = acquire_then_stall  # type: ignore[method-assign]
    assert buy(world) is Outcome.LOST
    assert world.submits() == 0
    assert world.statuses() == [OrderStatus.NEW]  # the sweep resolves it
    world.locks.acquire = acquire  # type: ignore[method-assign]
    world.clock.advance(timedelta(minutes=5).total_seconds())
    sync_orders(world.ctx)  # the next lease holder: UNKNOWN from now, the send is long over
    assert world.statuses() == [OrderStatus.UNKNOWN]
    world.clock.advance(world.ctx.policy.unknown_propagation.total_seconds())
    sync_orders(world.ctx)
    assert world.statuses() == [OrderStatus.REJECTED]


def test_a_young_lease_is_trusted_and_an_old_one_renewed(world: World) -> None:
    renewals: list[Lease] = []
    renew = world.locks.renew

    def counted(lease: Lease, ttl: float) -> Lease | None:
        renewals.append(lease)
        return renew(lease, ttl)

    world.locks.renew = counted  # type: ignore[method-assign]
    with symbol_lease(world.ctx, "005930") as held:
        assert held is not None
        held.ensure()  # just granted: no round trip
        assert renewals == []
        world.clock.advance(world.ctx.policy.lease_ttl * TRUSTED_SHARE)
        held.ensure()
        assert len(renewals) == 1
        held.ensure()  # renewed just now: trusted again
        assert len(renewals) == 1
        world.clock.advance(world.ctx.policy.lease_ttl)  # expired meanwhile
        with pytest.raises(LeaseLost):
            held.ensure()
