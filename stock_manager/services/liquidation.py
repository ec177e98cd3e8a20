"""Pre-close forced liquidation: flat before the closing auction, confirmed by the broker.

A liquidation is a chain of short rounds (each well inside a task's time limit), run until
the broker's balance shows nothing held or the hard cut passes. One round:

1. entries stop (CLOSING when scheduled, STOPPED when started by hand);
2. reconcile: fills applied, orphans adopted, so nothing the broker holds is missed;
3. open buy orders are cancelled;
4. each held symbol without a working sell gets a marketable limit sell at the best bid;
   a sell still open after ``escalate_after`` is cancelled, and the next one goes at market;
5. when the ledger holds nothing, the broker's balance must agree before it counts as flat.

A lease on ``LIQUIDATION_KEY`` that is never released but expires after one round interval
spaces the rounds out, so any number of triggers (beat, deadline guard, by hand) make one
chain. Past the hard cut nothing more is sent and anything left raises a critical alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Order, OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.session import TradingSession
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.ports import Lane, Notice, using_lane
from stock_manager.services import market
from stock_manager.services.context import ServiceContext
from stock_manager.services.orders import cancel_order, exit_position
from stock_manager.services.reconcile import reconcile

log = logging.getLogger(__name__)
LIQUIDATION_KEY = "__liquidation__"
HELD = (SymbolState.HOLDING, SymbolState.QUARANTINED, SymbolState.EXITING)


@dataclass(frozen=True, slots=True)
class RoundReport:
    ran: bool
    done: bool  # no further round is needed (flat, or past the hard cut)
    flat: bool = False  # the broker's balance confirms nothing is held
    remaining: tuple[str, ...] = ()
    actions: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""


def liquidate_round(
    ctx: ServiceContext, scheduled: bool = False, symbol: str | None = None
) -> RoundReport:
    now = ctx.clock.now()
    session = ctx.calendar.session(kst_date(now))
    if scheduled and (session is None or not session.must_liquidate(now)):
        starts = session.liquidation_starts_at.isoformat() if session else "no session today"
        return RoundReport(False, True, note=f"not due yet ({starts})")
    key = LIQUIDATION_KEY if symbol is None else f"{LIQUIDATION_KEY}{symbol}"
    round_lease = ctx.locks.acquire(key, ctx.actor, ctx.trading.liquidation.round_interval)
    if round_lease is None:
        return RoundReport(False, False, note="a round ran moments ago")
    if symbol is None:
        _stop_entries(ctx, scheduled)
    return _round(ctx, now, session, symbol)


def _stop_entries(ctx: ServiceContext, scheduled: bool) -> None:
    """Scheduled: the session moves to CLOSING. By hand: the kill switch, whatever the state,
    so a session that opens later does not start buying again."""
    if scheduled:
        market.advance(ctx.uow, ctx.calendar, ctx.clock, ctx.actor)
        if not market.current(ctx.uow, ctx.clock).allows_entries:
            return
    market.halt(ctx.uow, ctx.clock, "liquidation", ctx.actor)


def _round(
    ctx: ServiceContext, now: datetime, session: TradingSession | None, only: str | None
) -> RoundReport:
    past_hard_cut = session is not None and now >= session.hard_cut
    reconcile(ctx)
    actions: list[str] = []
    if not past_hard_cut:
        actions += _cancel_buys(ctx, only)
        actions += _sell_everything(ctx, now, only)
    remaining = _still_held(ctx, only)
    flat = not remaining and _broker_flat(ctx, only)
    if flat:
        log.info("liquidation complete: the broker holds nothing")
        return RoundReport(True, True, True, (), tuple(actions))
    if past_hard_cut:
        _alert_left(ctx, remaining)
        return RoundReport(True, True, False, remaining, tuple(actions), "hard cut passed")
    return RoundReport(True, False, False, remaining, tuple(actions))


def _cancel_buys(ctx: ServiceContext, only: str | None) -> list[str]:
    with ctx.uow as uow:
        buys = [
            o
            for o in uow.orders.find(
                day=kst_date(ctx.clock.now()),
                symbol=only,
                statuses=(OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED),
            )
            if o.side is Side.BUY
        ]
    return [
        f"cancel buy {o.symbol}: {cancel_order(ctx, o.id or 0, Lane.LIQUIDATION).outcome.value}"
        for o in buys
    ]


def _sell_everything(ctx: ServiceContext, now: datetime, only: str | None) -> list[str]:
    with ctx.uow as uow:
        held = [t for t in uow.symbols.find(HELD) if only in (None, t.symbol) and t.quantity > 0]
        orders = uow.orders.find(day=kst_date(now))
    actions = []
    for trade in held:
        mine = [o for o in orders if o.symbol == trade.symbol and o.side is Side.SELL]
        working = [o for o in mine if o.status.may_be_live]
        if working:
            actions += _escalate(ctx, working, now)
        elif trade.state is not SymbolState.EXITING:
            actions.append(_sell(ctx, trade, _level(mine, trade)))
    return actions


def _escalate(ctx: ServiceContext, working: list[Order], now: datetime) -> list[str]:
    actions = []
    for order in working:
        age = now - order.created_at if order.created_at else None
        if (
            age is not None
            and age >= ctx.trading.liquidation.escalate_after
            and order.broker_order_no
        ):
            result = cancel_order(ctx, order.id or 0, Lane.LIQUIDATION)
            actions.append(f"cancel stale sell {order.symbol}: {result.outcome.value}")
    return actions


def _level(sells: list[Order], trade: SymbolTrade) -> int:
    """How many of this trade's liquidation sells ended with shares left: each escalates."""
    prefix = f":{trade.symbol}:sell:{trade.trade_seq}:"
    return sum(
        1
        for o in sells
        if prefix in o.idempotency_key
        and o.purpose is OrderPurpose.LIQUIDATION
        and o.status is OrderStatus.CANCELED
    )


def _sell(ctx: ServiceContext, trade: SymbolTrade, level: int) -> str:
    order_type, price = ctx.trading.liquidation.escalation_order_type, 0
    if level == 0:
        with using_lane(Lane.LIQUIDATION):
            bid = ctx.broker.orderbook(trade.symbol).best_bid
        if bid:
            order_type, price = OrderType.LIMIT, bid
    result = exit_position(
        ctx, trade.symbol, order_type, price, OrderPurpose.LIQUIDATION, f"liquidation level {level}"
    )
    return f"sell {trade.symbol} {trade.quantity} {order_type.name} {price}: {result.outcome.value}"


def _still_held(ctx: ServiceContext, only: str | None) -> tuple[str, ...]:
    with ctx.uow as uow:
        held = uow.symbols.find((*HELD, SymbolState.ENTERING))
    return tuple(t.symbol for t in held if only in (None, t.symbol))


def _broker_flat(ctx: ServiceContext, only: str | None) -> bool:
    with using_lane(Lane.LIQUIDATION):
        balance = ctx.broker.balance()
    left = [h.symbol for h in balance.holdings if h.quantity > 0 and only in (None, h.symbol)]
    if left:
        log.warning("the ledger is flat but the broker holds %s", ", ".join(left))
    return not left


def _alert_left(ctx: ServiceContext, remaining: tuple[str, ...]) -> None:
    ctx.notifier.send(
        Notice(
            "liquidation_incomplete",
            "critical",
            "Liquidation incomplete at the hard cut",
            f"still held: {', '.join(remaining) or 'see the broker balance'}; "
            "working orders go into the closing auction",
            thread_key=f"liquidation:{kst_date(ctx.clock.now())}",
        )
    )


def liquidation_due(ctx: ServiceContext) -> bool:
    """The deadline guard: past the liquidation start with positions and no round running."""
    now = ctx.clock.now()
    session = ctx.calendar.session(kst_date(now))
    if session is None or not session.must_liquidate(now) or now >= session.auction_ends_at:
        return False
    with ctx.uow as uow:
        held = uow.symbols.find((*HELD, SymbolState.ENTERING))
    running = any(lease.symbol == LIQUIDATION_KEY for lease in ctx.locks.held())
    return bool(held) and not running
