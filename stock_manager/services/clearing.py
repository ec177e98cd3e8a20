"""Clearing the way for an exit: an unresolved or working order never blocks a sell.

A stop-loss, a take-profit or a liquidation round that finds orders of the symbol that may be
live acts on them first, under the symbol's lease, then says whether a sell may go out:

1. UNKNOWN (and NEW, whose writer died) orders are looked up at once in a complete read of
   the symbol's orders: adopted if found, rejected if absence is provable, else the exit
   waits for the broker (a worker looks again on a short backoff).
2. Open buys are cancelled: an exit wants no more shares. Cancels still pending (their reply
   was lost or refused) are sent again.
3. A working sell older than the liquidation policy's ``escalate_after`` is cancelled, so the
   next sell goes out at the escalated type; a younger one is left to work. A liquidation's
   marketable limit sell is cancelled sooner, after ``reprice_after``: it missed the bid. A
   limit at the day's lower limit is left to work (an exit in a VI or the closing call: it
   crosses at the auction's price, and a cancel could only miss the uncross).
4. The symbol is synced from a complete read, so fills and cancels move its state (ENTERING
   with a partial fill becomes HOLDING; a cancelled sell's shares are held again).

Then :class:`Clearance` says: ``CLEAR`` (sell now), ``WORKING`` (a sell is working),
``WAITING`` (an order's fate is still unknown) or ``PENDING`` (cancels under way).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import Enum

from stock_manager.domain.broker import BrokerError, OrderOutcomeUnknown
from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Order, OrderEvent, OrderPurpose, OrderStatus, Side
from stock_manager.ports import Lane, using_lane
from stock_manager.services.context import ServiceContext
from stock_manager.services.leasing import HeldLease
from stock_manager.services.ledger import change_order
from stock_manager.services.resolver import Resolution, follow_up, resolve_under_lease
from stock_manager.services.sync import UNSETTLED, sync_under_lease
from stock_manager.services.writes import writer

log = logging.getLogger(__name__)
UNDECIDED = (OrderStatus.NEW, OrderStatus.UNKNOWN)
WORKING = (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
CANCELLABLE = (*WORKING, OrderStatus.CANCEL_PENDING)


class Clearance(Enum):
    CLEAR = "clear"  # nothing of the symbol may be live: a sell may go out
    WORKING = "working"  # a sell is working at the broker: let it
    WAITING = "waiting"  # an order's fate is still unknown: look again shortly
    PENDING = "pending"  # cancels are under way: the next pass finds them settled


def live_orders(ctx: ServiceContext, symbol: str) -> list[Order]:
    with ctx.uow as uow:
        return uow.orders.find(day=kst_date(ctx.clock.now()), symbol=symbol, statuses=UNSETTLED)


def clear_the_way(
    ctx: ServiceContext, lease: HeldLease, lane: Lane, manage_sells: bool = True
) -> Clearance:
    """Act on the symbol's live orders (see the module docstring); under ``lease``. With
    ``manage_sells`` off (past the hard cut), working sells are left to the closing call."""
    live = live_orders(ctx, lease.symbol)
    if not live:
        return Clearance.CLEAR
    now = ctx.clock.now()
    if all(o.side is Side.SELL and o.status in WORKING for o in live) and not any(
        _should_cancel(ctx, o, now) for o in live
    ):
        return Clearance.WORKING  # a young sell is working: nothing to ask the broker
    if any(o.status in UNDECIDED for o in live):
        sync_under_lease(ctx, lease)  # NEW becomes UNKNOWN; found ones are adopted
        for order in live_orders(ctx, lease.symbol):
            if order.status is OrderStatus.UNKNOWN:
                _decide(ctx, lease, order)
    for order in live_orders(ctx, lease.symbol):
        if _should_cancel(ctx, order, now) and (manage_sells or order.side is Side.BUY):
            cancel_under_lease(ctx, lease, order, lane)
    sync_under_lease(ctx, lease)
    return _verdict(live_orders(ctx, lease.symbol))


def _decide(ctx: ServiceContext, lease: HeldLease, order: Order) -> None:
    if resolve_under_lease(ctx, lease, order.id or 0) is Resolution.WAITING:
        follow_up(ctx, order, attempt=0)


def _should_cancel(ctx: ServiceContext, order: Order, now: datetime) -> bool:
    if order.status not in CANCELLABLE or not order.broker_order_no:
        return False
    if order.side is Side.BUY or order.status is OrderStatus.CANCEL_PENDING:
        return True
    if order.created_at is None or _at_the_floor(ctx, order, now):
        return False
    age, policy = now - order.created_at, ctx.trading.liquidation
    if order.purpose is OrderPurpose.LIQUIDATION and order.order_type.has_price:
        return age >= policy.reprice_after  # marketable when sent: still open, it missed
    return age >= policy.escalate_after


def _at_the_floor(ctx: ServiceContext, order: Order, now: datetime) -> bool:
    """A limit sell at the day's lower limit: nothing sells for less, so nothing to escalate."""
    band = ctx.sanity.band(order.symbol, kst_date(now))
    return band is not None and order.order_type.has_price and 0 < order.price <= band.lower


def _verdict(live: list[Order]) -> Clearance:
    if not live:
        return Clearance.CLEAR
    if any(o.status is OrderStatus.UNKNOWN for o in live):
        return Clearance.WAITING
    working = [
        o for o in live if o.side is Side.SELL and o.status is not OrderStatus.CANCEL_PENDING
    ]
    return Clearance.WORKING if working else Clearance.PENDING


def cancel_under_lease(ctx: ServiceContext, lease: HeldLease, order: Order, lane: Lane) -> str:
    """Ask the broker to cancel what remains of ``order`` (again, if a cancel is pending).

    A refused or failed cancel is recorded (the order is SUBMITTED again, or stays
    CANCEL_PENDING when the reply was lost) and tried again on the next pass."""
    w = writer(ctx, lease)
    with ctx.uow as uow:
        current = uow.orders.get(order.id or 0)
        if current is None or current.status not in CANCELLABLE:
            return "settled"
        if current.status is not OrderStatus.CANCEL_PENDING:
            current = change_order(
                uow, w, current, current.apply(OrderEvent.CANCEL_REQUESTED), ctx.policy.fees
            )
        uow.commit()
    try:
        lease.ensure()
        with using_lane(lane):
            ctx.broker.cancel(current.broker_order_no or "", current.broker_branch or "")
    except OrderOutcomeUnknown as exc:
        log.warning("cancel of %s: fate unknown (%s); sent again next pass", order.symbol, exc)
        return "unknown"
    except BrokerError as exc:  # nothing left to cancel, or refused: the sync has the truth
        _cancel_failed(ctx, lease, order)
        log.warning("cancel of %s refused: %s", order.idempotency_key, exc)
        return "refused"
    return "sent"


def _cancel_failed(ctx: ServiceContext, lease: HeldLease, order: Order) -> None:
    w = writer(ctx, lease)
    with ctx.uow as uow:
        current = uow.orders.get(order.id or 0)
        if current is not None and current.status is OrderStatus.CANCEL_PENDING:
            after = current.apply(OrderEvent.CANCEL_FAILED)
            if after.filled_quantity:
                after = after.apply(OrderEvent.PARTIALLY_FILLED)
            change_order(uow, w, current, after, ctx.policy.fees)
            uow.commit()
