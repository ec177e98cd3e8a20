"""Execution notices (H0STCNI0/H0STCNI9) applied from themselves: the broker is read only for
what a notice cannot say, and then narrowed to the one order it is about (issue 16).

A fill notice carries the fill's quantity and price and the order's number (ODNO), so it is
applied to that order at once, under the symbol's lease, as a fill with the id
``day:odno:n:HHMMSS:qty@price#sequence`` — a redelivered notice finds its id recorded and
changes nothing. That is sound only while every fill recorded for the order came from a
notice: once a read has counted fills, a late notice may be one the read already counted, so
the order is read instead. A notice that would take the order past its quantity is not
trusted either. A plain acceptance changes nothing we know. Everything else — a cancel, a
modify, an expiry or a rejection of our order — is a read of that order alone (``ODNO``);
a notice about an order we cannot place while one of our sends is undecided is a read of
the symbol (the resolver needs the whole symbol), and a notice of someone else's order is
left to reconciliation. Several orders to read make one read of the symbol.

The 3-second order sync and the minute's reconciliation still read what notices missed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from stock_manager.domain.broker import ExecutionNotice
from stock_manager.domain.clock import kst_date
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.orders import Fill, Order, OrderStatus
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import ServiceContext
from stock_manager.services.isolation import per_symbol
from stock_manager.services.leasing import HeldLease, symbol_lease
from stock_manager.services.ledger import Writer, change_order, instrument_kind
from stock_manager.services.sync import sync_order_under_lease, sync_under_lease
from stock_manager.services.wire import notice_to_wire
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)
NOTICES_TASK = "tasks.orders.on_execution_notices"
NOTICE_FILL = ":n:"  # marks a fill recorded from a notice (its id)
BUSY_RETRIES, BUSY_BACKOFF = 8, 0.25  # the sender holds the lease until its reply is recorded
APPLICABLE = (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING)
UNDECIDED = (OrderStatus.NEW, OrderStatus.UNKNOWN)
SYMBOL = "*"  # what to read: the whole symbol


@dataclass(frozen=True, slots=True)
class NoticeResult:
    """What one symbol's notices did: fills applied from them, and what had to be read
    (``""`` nothing, an ODNO, or ``"*"`` the symbol); ``busy`` when they were sent again."""

    symbol: str
    applied: int = 0
    read: str = ""
    changed: int = 0
    busy: bool = False


def on_execution_notices(
    ctx: ServiceContext, notices: Sequence[ExecutionNotice], attempt: int = 0
) -> list[NoticeResult]:
    """Apply the notices, symbol by symbol (each under its lease); a busy symbol's notices are
    sent again shortly (``tasks.orders.on_execution_notices``), up to ``BUSY_RETRIES``."""
    by_symbol: dict[str, list[ExecutionNotice]] = {}
    for notice in notices:
        by_symbol.setdefault(notice.symbol, []).append(notice)
    return [_for_symbol(ctx, s, batch, attempt) for s, batch in by_symbol.items()]


def _for_symbol(
    ctx: ServiceContext, symbol: str, notices: list[ExecutionNotice], attempt: int
) -> NoticeResult:
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            _again(ctx, notices, attempt)
            return NoticeResult(symbol, busy=True)
        step = partial(_under_lease, ctx, lease, notices)
        return per_symbol(ctx, symbol, "execution notice", step, NoticeResult(symbol))


def _again(ctx: ServiceContext, notices: list[ExecutionNotice], attempt: int) -> None:
    if attempt >= BUSY_RETRIES:
        log.info("%s busy: its notices are left to the order sync", notices[0].symbol)
        return
    wires = [notice_to_wire(n) for n in notices]
    try:
        ctx.tasks.enqueue(NOTICES_TASK, (wires, attempt + 1), countdown=BUSY_BACKOFF)
    except Exception as exc:  # the Celery broker is away: the order sync still reads
        log.warning("could not send %s's notices again: %s", notices[0].symbol, exc)


def _under_lease(
    ctx: ServiceContext, lease: HeldLease, notices: list[ExecutionNotice]
) -> NoticeResult:
    day = kst_date(ctx.clock.now())
    w = writer(ctx, lease)
    with ctx.uow as uow:
        applied, read = _apply(uow, w, ctx.policy.fees, day, lease.symbol, notices)
        uow.commit()
    send_notices(ctx, w)
    if read == SYMBOL:
        changed = sync_under_lease(ctx, lease)
    elif read:
        changed = sync_order_under_lease(ctx, lease, read)
    else:
        changed = 0
    return NoticeResult(lease.symbol, applied, read, changed)


def _apply(
    uow: UnitOfWork,
    w: Writer,
    fees: FeeSchedule,
    day: date,
    symbol: str,
    notices: list[ExecutionNotice],
) -> tuple[int, str]:
    """Apply what the notices say by themselves; how many fills, and what must be read."""
    ours = uow.orders.find(day=day, symbol=symbol)
    by_no = {_no(o.broker_order_no): o for o in ours if o.broker_order_no}
    undecided = any(o.status in UNDECIDED for o in ours)
    applied, reads = 0, set()
    for notice in notices:
        order = by_no.get(_no(notice.broker_order_no))
        if order is None:
            reads.add(_unplaced(by_no, notice, undecided))
            continue
        if order.status.is_terminal or (notice.accept_only and not notice.is_fill):
            continue  # settled by a read that saw this, or only "accepted"
        after = _fill(uow, w, fees, order, notice) if notice.is_fill else None
        if after is None:
            reads.add(order.broker_order_no or "")
            continue
        applied += after.filled_quantity != order.filled_quantity
        by_no[_no(order.broker_order_no)] = after
    reads.discard("")
    read = SYMBOL if SYMBOL in reads or len(reads) > 1 else next(iter(reads), "")
    return applied, read


def _unplaced(by_no: dict[str, Order], notice: ExecutionNotice, undecided: bool) -> str:
    """What to read for a notice whose ODNO is none of ours: the order it cancels or
    modifies, the symbol while a send of ours is undecided, else nothing (not ours)."""
    original = by_no.get(_no(notice.original_order_no))
    if original is not None and not original.status.is_terminal:
        return original.broker_order_no or ""
    return SYMBOL if undecided else ""


def _fill(
    uow: UnitOfWork, w: Writer, fees: FeeSchedule, order: Order, notice: ExecutionNotice
) -> Order | None:
    """The order with the notice's fill applied (itself if applied before), or ``None`` when
    only a read can tell."""
    if order.status not in APPLICABLE or notice.rejected or order.id is None:
        return None
    fill_id = f"{order.trading_day:%Y%m%d}:{order.broker_order_no}{NOTICE_FILL}{notice.fill_key}"
    recorded = uow.fills.for_order(order.id)
    if any(f.broker_fill_id == fill_id for f in recorded):
        return order  # a redelivered notice
    from_notices = sum(f.quantity for f in recorded if NOTICE_FILL in f.broker_fill_id)
    quantity = order.filled_quantity + notice.quantity
    if from_notices != order.filled_quantity or notice.quantity <= 0 or notice.price <= 0:
        return None  # a read counted fills: it may have counted this one
    if quantity > order.quantity:
        return None  # more than was ordered: the notice is not what we think
    amount = order.filled_amount + notice.quantity * notice.price
    kind = instrument_kind(uow, order.symbol)  # an ETF's commission, and no tax on its sale
    costs = fees.fill_costs(order.side, order.filled_amount, amount, kind)
    fill = Fill(
        fill_id,
        order.symbol,
        order.side,
        notice.quantity,
        notice.price,
        notice.at,
        commission=costs.commission,
        tax=costs.tax,
    )
    return change_order(uow, w, order, order.with_cumulative_fill(quantity, amount), fees, [fill])


def _no(broker_order_no: str | None) -> str:
    """ODNOs compare as numbers: KIS pads them to 10 digits, not everywhere (kis-api §7)."""
    return (broker_order_no or "").strip().lstrip("0")
