"""Sending orders: entry, exit and cancel, each under the symbol's lease.

The sequence never changes: (1) under the lease, move the symbol and write the order as
NEW with its idempotency key, and commit (``services/intents.py``); (2) renew the lease
(which proves nobody else has touched the symbol since); (3) send; (4) write what the broker
said. A send whose fate is unknown leaves the order UNKNOWN for the resolver: it is never
resent blindly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from stock_manager.domain.broker import (
    BrokerError,
    BrokerRejected,
    OrderAck,
    OrderOutcomeUnknown,
    OrderRequest,
    OrderTypeRefused,
)
from stock_manager.domain.clock import kst_date
from stock_manager.domain.errors import StaleWrite
from stock_manager.domain.orders import (
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    OrderType,
    Side,
)
from stock_manager.domain.risk import Cap, Refusal
from stock_manager.domain.trade import SymbolTrade
from stock_manager.domain.trading_state import after_refusal
from stock_manager.ports import Lane, using_lane
from stock_manager.services.admission import Pricing
from stock_manager.services.clearing import Clearance, cancel_under_lease, clear_the_way
from stock_manager.services.context import ServiceContext
from stock_manager.services.instruments import instrument_of
from stock_manager.services.intents import Refused, open_in
from stock_manager.services.leasing import HeldLease, LeaseLost, symbol_lease
from stock_manager.services.ledger import change_order
from stock_manager.services.resolver import Resolution, follow_up, resolve_under_lease
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)


class Outcome(Enum):
    SUBMITTED = "submitted"  # the broker acknowledged it
    REJECTED = "rejected"  # the broker said no, or it was never sent
    UNKNOWN = "unknown"  # sent, fate unknown: the resolver takes over
    SKIPPED = "skipped"  # nothing to do, or not allowed now
    BUSY = "busy"  # another worker holds the symbol's lease
    LOST = "lost"  # our lease or the order moved on under us: nothing more written


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    order_id: int | None = None
    detail: str = ""
    refusals: tuple[Refusal, ...] = ()  # the caps that refused an entry (SKIPPED)

    @property
    def summary(self) -> str:
        """The outcome as a task returns it (Flower shows it): ``submitted``, ``skipped``, or
        for an entry the caps refused, ``refused [max_positions,max_total_notional]``."""
        if self.refusals:
            return f"refused [{','.join(r.cap.value for r in self.refusals)}]"
        return self.outcome.value


def enter(
    ctx: ServiceContext,
    symbol: str,
    quantity: int,
    price: int,
    order_type: OrderType,
    strategy: str = "",
    pricing: Pricing | None = None,
) -> SendResult:
    """Open a position: FLAT -> ENTERING and a buy order, if it is admitted now
    (``services/admission.py``: every cap, checked and reserved where the intent is written).
    Without ``pricing`` a limit order is risked at its limit and a market-type one refused.
    The symbol's instrument is known first: its ticks, limits and costs follow it."""
    try:
        kind = instrument_of(ctx, symbol).kind
    except BrokerRejected as exc:
        refusal = Refusal(Cap.SYMBOL, f"{symbol}: {exc}")
        return SendResult(Outcome.SKIPPED, detail=str(refusal), refusals=(refusal,))
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return SendResult(Outcome.BUSY, detail=f"{symbol} is busy")
        opened = _open(
            ctx,
            lease,
            symbol,
            Side.BUY,
            quantity,
            price,
            order_type,
            OrderPurpose.ENTRY,
            strategy,
            pricing or Pricing.at_limit(order_type, price, kind),
        )
        if isinstance(opened, SendResult):
            return opened
        return send_opened(ctx, lease, opened, Lane.ENTRY)


def exit_position(
    ctx: ServiceContext,
    symbol: str,
    order_type: OrderType,
    price: int,
    purpose: OrderPurpose = OrderPurpose.EXIT,
    reason: str = "",
) -> SendResult:
    """Sell everything held: HOLDING (or QUARANTINED) -> EXITING and a sell order, once the
    symbol's live orders are out of the way (``clearing.clear_the_way``): an unresolved or
    working order never blocks an exit."""
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return SendResult(Outcome.BUSY, detail=f"{symbol} is busy")
        return exit_under_lease(ctx, lease, order_type, price, purpose, reason)


def exit_under_lease(
    ctx: ServiceContext,
    lease: HeldLease,
    order_type: OrderType,
    price: int,
    purpose: OrderPurpose,
    reason: str,
) -> SendResult:
    """:func:`exit_position` for a caller that already holds the symbol's lease."""
    clearance = clear_the_way(ctx, lease, _exit_lane(purpose))
    if clearance is not Clearance.CLEAR:
        return SendResult(Outcome.SKIPPED, detail=f"{lease.symbol}: {clearance.value}")
    return sell_under_lease(ctx, lease, order_type, price, purpose, reason)


def sell_under_lease(
    ctx: ServiceContext,
    lease: HeldLease,
    order_type: OrderType,
    price: int,
    purpose: OrderPurpose,
    reason: str,
) -> SendResult:
    """Write the sell of everything held and send it; the way must be clear already."""
    opened = _open(ctx, lease, lease.symbol, Side.SELL, 0, price, order_type, purpose, reason)
    if isinstance(opened, SendResult):
        return opened
    return send_opened(ctx, lease, opened, _exit_lane(purpose))


def _exit_lane(purpose: OrderPurpose) -> Lane:
    return Lane.LIQUIDATION if purpose is OrderPurpose.LIQUIDATION else Lane.EXIT


def _open(
    ctx: ServiceContext,
    lease: HeldLease,
    symbol: str,
    side: Side,
    quantity: int,
    price: int,
    order_type: OrderType,
    purpose: OrderPurpose,
    note: str,
    pricing: Pricing | None = None,
) -> Order | SendResult:
    w = writer(ctx, lease)
    with ctx.uow as uow:
        trade = uow.symbols.get(symbol) or SymbolTrade(symbol)
        opened = open_in(
            uow, w, ctx, trade, side, quantity, price, order_type, purpose, note, pricing
        )
        if isinstance(opened, Refused):
            return SendResult(Outcome.SKIPPED, detail=opened.detail, refusals=opened.refusals)
        uow.commit()
    return opened


def send_opened(ctx: ServiceContext, lease: HeldLease, order: Order, lane: Lane) -> SendResult:
    # A successful renewal proves nobody took the lease since the intent was written, and
    # every write to this symbol's orders needs that lease: the intent is still NEW.
    try:
        lease.ensure()
    except LeaseLost as exc:
        return SendResult(Outcome.LOST, order.id, f"{exc}; the sweep resolves the intent")
    request = OrderRequest(order.symbol, order.side, order.quantity, order.order_type, order.price)
    try:
        with using_lane(lane):
            ack = ctx.broker.submit(request)
    except OrderOutcomeUnknown as exc:
        recorded = _record(ctx, lease, order, OrderEvent.OUTCOME_UNKNOWN, str(exc))
        return look_up(ctx, lease, recorded)
    except OrderTypeRefused as exc:
        refused = _record(ctx, lease, order, OrderEvent.REJECTED, f"{exc.code} {exc}".strip())
        return _resend_sell(ctx, lease, order, refused)
    except BrokerRejected as exc:
        return _record(ctx, lease, order, OrderEvent.REJECTED, f"{exc.code} {exc}".strip())
    except BrokerError as exc:  # refused before anything was executed
        return _record(ctx, lease, order, OrderEvent.REJECTED, f"not sent: {exc}")
    return _record(ctx, lease, order, OrderEvent.ACCEPTED, "", ack)


def _resend_sell(
    ctx: ServiceContext, lease: HeldLease, order: Order, refused: SendResult
) -> SendResult:
    """A sell refused for its order type (e.g. 03 in a VI auction) goes again at once with
    the next type the exchange accepts (``trading_state.after_refusal``): a limit at the
    lower limit, then market. A buy refused so is not retried."""
    if order.side is not Side.SELL or refused.outcome is not Outcome.REJECTED:
        return refused
    band = ctx.sanity.band(order.symbol, kst_date(ctx.clock.now()))
    again = after_refusal(order.order_type, band)
    if again is None:
        return refused
    log.warning(
        "%s refused as %s; sending it as %s %s",
        order.idempotency_key,
        order.order_type.name,
        again.order_type.name,
        again.price,
    )
    with ctx.uow as uow:
        trade = uow.symbols.get(order.symbol)
    why = trade.note if trade is not None else ""
    note = f"{why} (resent as {again.order_type.name})".strip()
    return sell_under_lease(ctx, lease, again.order_type, again.price, order.purpose, note)


def look_up(ctx: ServiceContext, lease: HeldLease, sent: SendResult) -> SendResult:
    """After an ambiguous send: look the order up at once (the broker may list it already)
    and, while it stays undecided, have a worker look again on a short backoff."""
    if sent.outcome is not Outcome.UNKNOWN or sent.order_id is None:
        return sent
    try:
        resolution = resolve_under_lease(ctx, lease, sent.order_id)
    except BrokerError as exc:  # a failed read proves nothing: look again later
        log.warning("could not look up %s at once: %s", sent.order_id, exc)
        resolution = Resolution.WAITING
    if resolution is Resolution.WAITING:
        with ctx.uow as uow:
            order = uow.orders.get(sent.order_id)
        if order is not None:
            follow_up(ctx, order, attempt=0)
    outcome = _RESOLVED.get(resolution, Outcome.UNKNOWN)
    return SendResult(outcome, sent.order_id, f"{sent.detail}; {resolution.value}")


_RESOLVED = {Resolution.ADOPTED: Outcome.SUBMITTED, Resolution.PROVEN_ABSENT: Outcome.REJECTED}
_OUTCOMES = {
    OrderEvent.ACCEPTED: Outcome.SUBMITTED,
    OrderEvent.REJECTED: Outcome.REJECTED,
    OrderEvent.OUTCOME_UNKNOWN: Outcome.UNKNOWN,
}


def _record(
    ctx: ServiceContext,
    lease: HeldLease,
    order: Order,
    event: OrderEvent,
    detail: str,
    ack: OrderAck | None = None,
) -> SendResult:
    w = writer(ctx, lease)
    with ctx.uow as uow:
        current = uow.orders.get(order.id or 0)
        if current is None or current.status is not OrderStatus.NEW:
            return SendResult(Outcome.LOST, order.id, "the intent moved on while it was sent")
        changes = (
            {"broker_order_no": ack.broker_order_no, "broker_branch": ack.branch} if ack else {}
        )
        try:
            change_order(uow, w, current, current.apply(event, **changes), ctx.policy.fees)
        except StaleWrite as exc:
            log.warning("could not record %s for %s: %s", event.value, order.idempotency_key, exc)
            return SendResult(Outcome.LOST, order.id, str(exc))
        if event is OrderEvent.OUTCOME_UNKNOWN:
            w.alert(
                "order_unknown",
                "warning",
                f"{order.symbol} {order.side.value} order unknown",
                f"{order.idempotency_key}: {detail}; resolving against the broker's history",
                thread_key=f"order:{order.idempotency_key}",
            )
        uow.commit()
    send_notices(ctx, w)
    log.info(
        "%s %s: %s %s",
        order.idempotency_key,
        event.value,
        ack.broker_order_no if ack else "",
        detail,
    )
    return SendResult(_OUTCOMES[event], order.id, detail)


_CANCELLED = {
    "settled": Outcome.SKIPPED,
    "sent": Outcome.SUBMITTED,
    "unknown": Outcome.UNKNOWN,
    "refused": Outcome.REJECTED,
}


def cancel_order(ctx: ServiceContext, order_id: int, lane: Lane = Lane.CANCEL) -> SendResult:
    """Ask the broker to cancel what remains of an acknowledged order (again, if a cancel is
    already pending: its reply may have been lost)."""
    with ctx.uow as uow:
        order = uow.orders.get(order_id)
    if order is None or order.broker_order_no is None:
        return SendResult(Outcome.SKIPPED, order_id, "nothing to cancel")
    with symbol_lease(ctx, order.symbol) as lease:
        if lease is None:
            return SendResult(Outcome.BUSY, order_id, f"{order.symbol} is busy")
        try:
            result = cancel_under_lease(ctx, lease, order, lane)
        except LeaseLost as exc:
            return SendResult(Outcome.LOST, order_id, str(exc))
    return SendResult(_CANCELLED[result], order_id, f"cancel {result}")
