"""Sends whose fate is unknown, against the simulator: the order is never sent twice, the
broker's order is adopted exactly once, and its fills are counted exactly once.

The simulator's accept-then-time-out fault executes the order and never answers; with
``KIS_TIMEOUT=1`` the adapter raises ``OrderOutcomeUnknown``. Its HTTP 500 fault refuses the
order without executing it, which the adapter cannot tell apart: also unknown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from stock_manager.domain.broker import ExecutionNotice
from stock_manager.domain.orders import OrderStatus, OrderType, Side
from stock_manager.domain.records import RecoveryKind
from stock_manager.domain.trade import SymbolState
from stock_manager.services.context import ServiceContext
from stock_manager.services.notices import on_execution_notices
from stock_manager.services.orders import Outcome, cancel_order, enter
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sweep import sweep_locks
from stock_manager.services.sync import sync_orders
from tests.integration.ledger.stack import Stack

SYMBOL = "005930"


def recover_by_sync(ctx: ServiceContext) -> object:
    return sync_orders(ctx)


def recover_by_sweep(ctx: ServiceContext) -> object:
    result = sweep_locks(ctx)
    assert result.recovered == (SYMBOL,)  # nobody held the symbol: the sweep took it over
    return result


RECOVERIES: dict[str, Callable[[ServiceContext], object]] = {
    "sync": recover_by_sync,
    "sweep": recover_by_sweep,
}


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
@pytest.mark.parametrize("recovery", ["sync", "sweep"])
def test_accept_then_time_out_is_adopted_once_and_its_fills_counted_once(
    stack: Stack, recovery: str
) -> None:
    ctx = stack.ctx
    price = int(stack.market(SYMBOL)["lower"])  # rests: nothing trades there unless we say so
    quantity = 200_000  # more than one trade's volume, so the first fill is partial
    stack.admin("account", {"cash": 1_000_000_000})
    # The order's reply never comes, and the immediate look-up fails too: recovery's turn.
    stack.faults(
        order_timeout_rate=1.0,
        order_timeout_hang_s=1.2,
        http500_rate=1.0,
        paths=["inquire-daily-ccld"],
    )

    sent = enter(ctx, SYMBOL, quantity, price, OrderType.LIMIT, "test")

    assert sent.outcome is Outcome.UNKNOWN, sent
    assert [t for t, _, _ in ctx.tasks.pending] == ["tasks.orders.resolve_order"]  # type: ignore[attr-defined]
    (intent,) = stack.orders(SYMBOL)
    assert (intent.status, intent.broker_order_no) == (OrderStatus.UNKNOWN, None)
    (at_broker,) = stack.broker_orders(SYMBOL)  # the broker has it all the same
    assert (at_broker["qty"], at_broker["price"], at_broker["status"]) == (quantity, price, "open")
    assert "order_unknown" in stack.notifier.kinds()

    # A second entry for the symbol while the first is unresolved sends nothing.
    stack.faults()
    again = enter(ctx, SYMBOL, quantity, price, OrderType.LIMIT, "test")
    assert again.outcome is Outcome.SKIPPED and "may be live" in again.detail
    assert len(stack.broker_orders(SYMBOL)) == 1
    assert len(stack.orders(SYMBOL)) == 1
    assert stack.symbol(SYMBOL).state is SymbolState.ENTERING

    RECOVERIES[recovery](ctx)

    adopted = stack.order(intent.id or 0)
    assert adopted.status is OrderStatus.SUBMITTED
    assert adopted.broker_order_no == at_broker["odno"]
    assert adopted.broker_branch  # adopted with its branch: a cancel needs it
    assert (adopted.quantity, adopted.filled_quantity) == (at_broker["qty"], 0)
    assert adopted.fence > intent.fence  # written under a later lease than the send
    resolved = [e for e in stack.recovery() if e.kind is RecoveryKind.UNKNOWN_RESOLVED]
    assert [(e.action, e.detail["odno"]) for e in resolved] == [("adopted", at_broker["odno"])]
    assert "order_resolved" in stack.notifier.kinds()
    assert len(stack.broker_orders(SYMBOL)) == 1  # recovery never resends

    # A partial fill, synced twice (and once more through the notice path): counted once.
    stack.trade_through(SYMBOL, price)
    (at_broker,) = stack.broker_orders(SYMBOL)
    filled, amount = at_broker["filled_qty"], at_broker["filled_amount"]
    assert 0 < filled < quantity
    assert sync_orders(ctx).changed == 1
    assert sync_orders(ctx).changed == 0
    notice = ExecutionNotice(
        at_broker["odno"], "", SYMBOL, Side.BUY, True, False, filled, price, ctx.clock.now()
    )
    (result,) = on_execution_notices(ctx, [notice])  # the stream's copy of the same fill:
    assert (result.applied, result.changed) == (0, 0)  # a read counted it, so it is read again
    partial = stack.order(intent.id or 0)
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert (partial.filled_quantity, partial.filled_amount) == (filled, amount)
    fills = stack.fills(partial)
    assert sum(f.quantity for f in fills) == filled
    assert sum(f.quantity * f.price for f in fills) == amount
    assert (stack.symbol(SYMBOL).state, stack.symbol(SYMBOL).quantity) == (
        SymbolState.ENTERING,
        filled,
    )

    # The rest is cancelled (through the adopted number and branch): HOLDING what filled.
    assert cancel_order(ctx, intent.id or 0).outcome is Outcome.SUBMITTED
    assert sync_orders(ctx).changed == 1
    assert sync_orders(ctx).changed == 0
    final = stack.order(intent.id or 0)
    assert (final.status, final.filled_quantity) == (OrderStatus.CANCELED, filled)
    assert stack.fills(final) == fills
    trade = stack.symbol(SYMBOL)
    assert (trade.state, trade.quantity, trade.cost) == (SymbolState.HOLDING, filled, amount)
    assert stack.broker_holding(SYMBOL) == filled
    assert reconcile(ctx).differences == ()  # the ledger and the broker agree
    assert len(stack.broker_orders(SYMBOL)) == 1


def test_a_send_the_broker_never_got_is_rejected_only_after_the_grace(stack: Stack) -> None:
    ctx = stack.ctx
    price = int(stack.market(SYMBOL)["lower"])
    stack.faults(http500_rate=1.0, paths=["order-cash"])  # refused, but we cannot know that

    sent = enter(ctx, SYMBOL, 3, price, OrderType.LIMIT, "test")

    assert sent.outcome is Outcome.UNKNOWN, sent
    assert stack.broker_orders(SYMBOL) == []
    stack.faults()
    (intent,) = stack.orders(SYMBOL)

    # Before the propagation delay the absence proves nothing: the intent waits, nothing sent.
    sync_orders(ctx)
    assert stack.order(intent.id or 0).status is OrderStatus.UNKNOWN
    assert enter(ctx, SYMBOL, 3, price, OrderType.LIMIT, "test").outcome is Outcome.SKIPPED
    assert stack.symbol(SYMBOL).state is SymbolState.ENTERING

    assert intent.updated_at is not None
    provable = intent.updated_at + ctx.policy.unknown_propagation + timedelta(milliseconds=50)
    time.sleep(max((provable - ctx.clock.now()).total_seconds(), 0))
    sync_orders(ctx)

    assert stack.order(intent.id or 0).status is OrderStatus.REJECTED
    trade = stack.symbol(SYMBOL)
    assert (trade.state, trade.quantity) == (SymbolState.FLAT, 0)
    actions = [e.action for e in stack.recovery() if e.kind is RecoveryKind.UNKNOWN_RESOLVED]
    assert actions == ["rejected: proven absent"]

    # Now the symbol is free again: the next entry goes out, once, as a new trade.
    retry = enter(ctx, SYMBOL, 3, price, OrderType.LIMIT, "test")
    assert retry.outcome is Outcome.SUBMITTED, retry
    (at_broker,) = stack.broker_orders(SYMBOL)
    sent_again = stack.order(retry.order_id or 0)
    assert sent_again.broker_order_no == at_broker["odno"]
    assert sent_again.idempotency_key.endswith(":buy:2:0")  # trade 2, not a resend of trade 1
