"""Order sync: the broker's daily order history applied to every unsettled order.

The same code serves the 3-second poll, reconciliation, the lease sweep and what an
execution notice cannot say by itself (``services/notices.py``: one order's read): facts
are cumulative, so applying them twice changes nothing. An order still NEW when we hold its
symbol's lease was written by a worker that lost its lease before recording the send: it
becomes UNKNOWN and goes to the resolver.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from stock_manager.domain.broker import BrokerOrder
from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Order, OrderEvent, OrderStatus
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import ServiceContext
from stock_manager.services.isolation import per_symbol
from stock_manager.services.leasing import HeldLease, symbol_lease
from stock_manager.services.ledger import OrderFact, Writer, apply_fact, change_order
from stock_manager.services.resolver import BrokerView, Resolution, read_view, resolve_unknown
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)

UNSETTLED = tuple(s for s in OrderStatus if s.may_be_live)


@dataclass(frozen=True, slots=True)
class SyncResult:
    orders: int
    changed: int
    busy: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # the broker could not be read for these: next time


def broker_orders(ctx: ServiceContext, day: date) -> list[BrokerOrder]:
    """Every order of the day (complete, or ``BrokerReadIncomplete``)."""
    return list(read_view(ctx, day).rows)


def sync_orders(ctx: ServiceContext) -> SyncResult:
    """Apply the broker's history to every unsettled order of the day, symbol by symbol, each
    from a complete read narrowed to that symbol (a busy paper day is 15 rows a page).

    A working order changed less than ``notice_grace`` ago is left to the execution notices
    (they bring its fills without a read); undecided orders and pending cancels never are."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        pending = uow.orders.find(day=kst_date(now), statuses=UNSETTLED)
    due = {o.symbol for o in pending if not _left_to_notices(o, now, ctx.policy.notice_grace)}
    if not due:
        return SyncResult(0, 0)
    return sync_symbols(ctx, due)


def _left_to_notices(order: Order, now: datetime, grace: timedelta) -> bool:
    changed = order.updated_at or order.created_at
    working = order.status in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
    return working and changed is not None and now - changed < grace


def sync_symbols(
    ctx: ServiceContext, symbols: Iterable[str], view: BrokerView | None = None
) -> SyncResult:
    """Sync each symbol under its lease, from ``view`` if it covers the symbol (a full-day
    read), else from a complete read of that symbol's orders. One symbol's trouble — busy,
    or its read failed — never stops the others."""
    busy, failed, changed, seen = [], [], 0, 0
    for symbol in sorted(set(symbols)):
        with symbol_lease(ctx, symbol) as lease:
            if lease is None:
                busy.append(symbol)
                continue
            synced = per_symbol(
                ctx, symbol, "order sync", partial(_sync_symbol, ctx, lease, view), None
            )
            if synced is None:
                failed.append(symbol)
                continue
            seen, changed = seen + synced[0], changed + synced[1]
    return SyncResult(seen, changed, tuple(busy), tuple(failed))


def sync_under_lease(ctx: ServiceContext, lease: HeldLease) -> int:
    """Sync ``lease``'s symbol from a complete read of its orders; how many orders moved."""
    return _sync_symbol(ctx, lease, None)[1]


def sync_order_under_lease(ctx: ServiceContext, lease: HeldLease, order_no: str) -> int:
    """Sync the one order ``order_no`` of ``lease``'s symbol from a read narrowed to it
    (complete for that order, and proof of nothing else); how many orders moved."""
    return _sync_symbol(ctx, lease, None, order_no)[1]


def _sync_symbol(
    ctx: ServiceContext, lease: HeldLease, view: BrokerView | None, order_no: str | None = None
) -> tuple[int, int]:
    day = kst_date(ctx.clock.now())

    def unsettled(uow: UnitOfWork) -> list[Order]:
        found = uow.orders.find(day=day, symbol=lease.symbol, statuses=UNSETTLED)
        return [o for o in found if order_no in (None, o.broker_order_no)]

    with ctx.uow as uow:
        orders = unsettled(uow)
    if not orders:
        return 0, 0
    if view is None or not view.covers(lease.symbol):
        view = read_view(ctx, day, lease.symbol, order_no)
    w = writer(ctx, lease)
    by_number = {r.broker_order_no: r for r in view.rows}
    with ctx.uow as uow:
        orders = unsettled(uow)
        changed = sum(_settle(ctx, uow, w, order, by_number, view) for order in orders)
        uow.commit()
    send_notices(ctx, w)
    return len(orders), changed


def _settle(
    ctx: ServiceContext,
    uow: UnitOfWork,
    w: Writer,
    order: Order,
    by_number: dict[str, BrokerOrder],
    view: BrokerView,
) -> bool:
    fees = ctx.policy.fees
    if order.status is OrderStatus.NEW:
        log.warning("%s was never recorded as sent; resolving it", order.idempotency_key)
        order = change_order(uow, w, order, order.apply(OrderEvent.OUTCOME_UNKNOWN), fees)
    if order.status is OrderStatus.UNKNOWN:
        return resolve_unknown(uow, w, order, view, ctx.policy) is not Resolution.WAITING
    row = by_number.get(order.broker_order_no or "")
    if row is None:
        log.warning(
            "%s (%s) is not in the broker's history", order.idempotency_key, order.broker_order_no
        )
        return False
    return apply_fact(uow, w, order, OrderFact.of(row), fees) != order
