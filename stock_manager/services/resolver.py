"""Resolving ambiguous sends in seconds: KIS has no client order id, so an UNKNOWN intent is
matched against the broker's order history by symbol, side, quantity, price, order type and
time.

One match: adopt its order number. More than one: nobody can tell which is ours, so the
symbol is quarantined and a person decides. None: the order is proven absent only by a
**complete** read of the symbol's orders (``Broker.orders`` raises rather than return part of
a list) that **began** at least ``unknown_propagation`` after the send ended without an
answer (``Order.updated_at``): an order still on its way through KIS's systems could be
missing from an earlier read. Until then the resolver waits and looks again.

:func:`resolve_order` runs right after an ambiguous send (under the sender's lease) and then
on a short backoff (``tasks.orders.resolve_order``); the 3-second order sync resolves too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from stock_manager.domain.broker import BrokerError, BrokerOrder
from stock_manager.domain.orders import Order, OrderEvent, OrderStatus
from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.ports import Lane, UnitOfWork, using_lane
from stock_manager.services.context import LedgerPolicy, ServiceContext
from stock_manager.services.leasing import HeldLease, symbol_lease
from stock_manager.services.ledger import OrderFact, Writer, apply_fact, change_order, quarantine
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)
RESOLVE_TASK = "tasks.orders.resolve_order"
MAX_ATTEMPTS = 10


class Resolution(Enum):
    ADOPTED = "adopted"
    PROVEN_ABSENT = "proven_absent"
    AMBIGUOUS = "ambiguous"
    WAITING = "waiting"  # not found yet, and absence not provable yet: look again
    DECIDED = "decided"  # nothing to resolve: the order is no longer UNKNOWN
    BUSY = "busy"  # another worker holds the symbol's lease


@dataclass(frozen=True, slots=True)
class BrokerView:
    """The broker's orders of one day as one complete read saw them, for ``symbol`` (or
    every symbol), and when that read began."""

    rows: tuple[BrokerOrder, ...]
    started_at: datetime
    symbol: str | None = None
    order_no: str | None = None  # one order's read: complete for that order only

    def covers(self, symbol: str) -> bool:
        """Whether this read is complete for every order of ``symbol``."""
        return self.order_no is None and (self.symbol is None or self.symbol == symbol)


def read_view(
    ctx: ServiceContext, day: date, symbol: str | None = None, order_no: str | None = None
) -> BrokerView:
    """One complete read of the day's orders (narrowed to ``symbol``, and to one ODNO where
    given); ``BrokerReadIncomplete`` if the broker's list could not be read to its end."""
    started = ctx.clock.now()
    with using_lane(Lane.SYNC):
        if order_no:
            rows = ctx.broker.orders(day, symbol=symbol, order_no=order_no)
        else:  # every Broker takes this form
            rows = ctx.broker.orders(day, symbol=symbol)
    return BrokerView(tuple(rows), started, symbol, order_no)


def matches(order: Order, row: BrokerOrder, policy: LedgerPolicy) -> bool:
    if order.created_at is None:
        return False
    window_start = order.created_at - policy.match_window / 10  # clock skew between hosts
    return (
        row.is_new_order  # our intents are new orders: a revise or cancel row is never one
        and row.symbol == order.symbol
        and row.side is order.side
        and row.quantity == order.quantity
        and (row.order_type is None or row.order_type is order.order_type)
        and (not order.order_type.has_price or row.price == order.price)
        and window_start <= row.ordered_at <= order.created_at + policy.match_window
    )


def absence_provable_at(order: Order, policy: LedgerPolicy) -> datetime | None:
    """The earliest start of a read whose silence proves ``order`` absent."""
    since = order.updated_at or order.created_at
    return None if since is None else since + policy.unknown_propagation


def resolve_unknown(
    uow: UnitOfWork, w: Writer, order: Order, view: BrokerView, policy: LedgerPolicy
) -> Resolution:
    """Decide an UNKNOWN order from a complete read (inside a unit of work)."""
    if not view.covers(order.symbol):
        return Resolution.WAITING
    taken = {o.broker_order_no for o in uow.orders.find(day=order.trading_day) if o.broker_order_no}
    candidates = [
        r for r in view.rows if r.broker_order_no not in taken and matches(order, r, policy)
    ]
    if len(candidates) == 1:
        return _adopt(uow, w, order, candidates[0], policy)
    if len(candidates) > 1:
        _ambiguous(uow, w, order, candidates)
        return Resolution.AMBIGUOUS
    provable = absence_provable_at(order, policy)
    if provable is not None and view.started_at >= provable:
        after = order.apply(OrderEvent.REJECTED)
        change_order(uow, w, order, after, policy.fees)
        _log(uow, w, order, "rejected: proven absent", {"read_at": view.started_at.isoformat()})
        return Resolution.PROVEN_ABSENT
    return Resolution.WAITING


def resolve_order(ctx: ServiceContext, order_id: int) -> Resolution:
    """Take the order's symbol lease and decide it if the broker lets us (the task's use case)."""
    with ctx.uow as uow:
        order = uow.orders.get(order_id)
    if order is None or order.status is not OrderStatus.UNKNOWN:
        return Resolution.DECIDED
    with symbol_lease(ctx, order.symbol) as lease:
        if lease is None:
            return Resolution.BUSY
        return resolve_under_lease(ctx, lease, order_id)


def resolve_under_lease(ctx: ServiceContext, lease: HeldLease, order_id: int) -> Resolution:
    """Read the symbol's orders completely, then decide the order (if it is still UNKNOWN)."""
    with ctx.uow as uow:
        order = uow.orders.get(order_id)
    if order is None or order.status is not OrderStatus.UNKNOWN:
        return Resolution.DECIDED
    view = read_view(ctx, order.trading_day, order.symbol)
    w = writer(ctx, lease)
    with ctx.uow as uow:
        current = uow.orders.get(order_id)
        if current is None or current.status is not OrderStatus.UNKNOWN:
            return Resolution.DECIDED
        result = resolve_unknown(uow, w, current, view, ctx.policy)
        uow.commit()
    send_notices(ctx, w)
    return result


def resolve_with_follow_up(ctx: ServiceContext, order_id: int, attempt: int) -> Resolution:
    """``tasks.orders.resolve_order``: decide now if the broker lets us, else look again on a
    short backoff (up to ``MAX_ATTEMPTS``; the 3-second order sync keeps trying after that).
    A read that failed or was incomplete proves nothing: it is a reason to look again."""
    try:
        result = resolve_order(ctx, order_id)
    except BrokerError as exc:
        log.warning("resolving order %d: the broker could not be read: %s", order_id, exc)
        result = Resolution.WAITING
    if result in (Resolution.WAITING, Resolution.BUSY) and attempt < MAX_ATTEMPTS:
        with ctx.uow as uow:
            order = uow.orders.get(order_id)
        if order is not None:
            follow_up(ctx, order, attempt)
    return result


def follow_up(ctx: ServiceContext, order: Order, attempt: int) -> None:
    """Ask a worker to look again: when absence becomes provable, or soon if it already is."""
    provable = absence_provable_at(order, ctx.policy)
    wait = (provable - ctx.clock.now()).total_seconds() if provable else 0.0
    backoff = min(0.25 * 2**attempt, 4.0)
    delay = wait + 0.05 if wait > 0 else backoff
    try:
        ctx.tasks.enqueue(RESOLVE_TASK, (order.id, attempt + 1), countdown=delay)
    except Exception as exc:  # the broker is away: the 3-second order sync still resolves it
        log.warning("could not ask for another look at %s: %s", order.idempotency_key, exc)


def _adopt(
    uow: UnitOfWork, w: Writer, order: Order, row: BrokerOrder, policy: LedgerPolicy
) -> Resolution:
    accepted = change_order(
        uow,
        w,
        order,
        order.apply(
            OrderEvent.ACCEPTED,
            broker_order_no=row.broker_order_no,
            broker_branch=row.branch,
        ),
        policy.fees,
    )
    apply_fact(uow, w, accepted, OrderFact.of(row), policy.fees)
    _log(uow, w, order, "adopted", {"odno": row.broker_order_no})
    w.alert(
        "order_resolved",
        "info",
        f"{order.symbol} order found at the broker",
        f"{order.idempotency_key} adopted as {row.broker_order_no}",
        thread_key=f"order:{order.idempotency_key}",
    )
    return Resolution.ADOPTED


def _ambiguous(uow: UnitOfWork, w: Writer, order: Order, rows: Sequence[BrokerOrder]) -> None:
    numbers = ", ".join(r.broker_order_no for r in rows)
    trade = uow.symbols.get(order.symbol)
    if trade is not None:
        quarantine(uow, w, trade, f"{order.idempotency_key} matches {numbers}")
    _log(uow, w, order, "quarantined: ambiguous", {"candidates": numbers})


def _log(uow: UnitOfWork, w: Writer, order: Order, action: str, detail: dict[str, str]) -> None:
    uow.recovery.record(
        RecoveryEntry(
            RecoveryKind.UNKNOWN_RESOLVED,
            action,
            w.at,
            order.symbol,
            {"order": order.idempotency_key, **detail},
        )
    )
    log.warning("%s: %s %s", order.idempotency_key, action, detail)
