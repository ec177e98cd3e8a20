"""Pre-close forced liquidation: flat before the closing auction, confirmed by the broker.

A liquidation is a chain of short rounds (each well inside a task's time limit), run until
the broker's balance shows nothing held or the hard cut passes. One round:

1. entries stop (CLOSING when scheduled, STOPPED when started by hand);
2. reconcile: fills applied, orphans adopted, so nothing the broker holds is missed;
3. every symbol in play, each on its own (one symbol's error never stops another's exit),
   under its lease: its live orders are cleared (``clearing.clear_the_way``: UNKNOWN orders
   looked up, open buys cancelled, pending cancels sent again, a sell open longer than
   ``escalate_after`` cancelled), then what it holds is sold: a marketable limit a few
   ticks below the best bid first (one orderbook read: its summary says a VI and the base
   price), at market once a liquidation sell of the trade has been cancelled;
4. when the ledger holds nothing, the broker's balance must agree before it counts as flat
   (a round with nothing in play confirms from reconcile's read: one read of each list).

Past the hard cut no sell is sent any more, but buys are still cancelled and unknown orders
looked up, and a critical alert lists what the broker really holds and has open.

A lease on ``LIQUIDATION_KEY`` that is never released but expires after one round interval
spaces the rounds out, so any number of triggers (beat, deadline guard, by hand) make one
chain. Past the hard cut nothing more is sent and anything left raises a critical alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from stock_manager.domain.broker import AccountBalance, BrokerError
from stock_manager.domain.clock import kst_date
from stock_manager.domain.krx import ticks_away
from stock_manager.domain.orders import Order, OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.session import TradingSession
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.domain.trading_state import TradingState
from stock_manager.ports import Lane, Notice, using_lane
from stock_manager.services import market
from stock_manager.services.clearing import Clearance, clear_the_way
from stock_manager.services.context import ServiceContext
from stock_manager.services.exit_orders import choose_exit_from_book
from stock_manager.services.isolation import guarded, per_symbol
from stock_manager.services.leasing import symbol_lease
from stock_manager.services.ledger import instrument_kind
from stock_manager.services.orders import sell_under_lease
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sync import UNSETTLED

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
    read: list[AccountBalance | None] = []
    actions = [
        guarded(ctx, "liquidation: reconcile", partial(_reconcile, ctx, read), "reconcile: failed")
    ]
    in_play = _in_play(ctx, only)
    for symbol in in_play:
        step = partial(_liquidate, ctx, symbol, past_hard_cut)
        actions.append(per_symbol(ctx, symbol, "liquidation", step, f"{symbol}: failed"))
    remaining = _still_held(ctx, only)
    # Nothing was in play, so nothing was sent since reconcile read the balance (after the
    # day's orders): that complete read confirms, and each list is read once (issue 16).
    seen = read[0] if read and not in_play else None
    flat = not remaining and _broker_flat(ctx, only, seen)
    if flat:
        log.info("liquidation complete: the broker holds nothing")
        return RoundReport(True, True, True, (), tuple(actions))
    if past_hard_cut:
        _alert_left(ctx, remaining, only)
        return RoundReport(True, True, False, remaining, tuple(actions), "hard cut passed")
    return RoundReport(True, False, False, remaining, tuple(actions))


def _reconcile(ctx: ServiceContext, read: list[AccountBalance | None]) -> str:
    report = reconcile(ctx)
    read.append(report.balance)
    return f"reconciled: {report.fixed} fixed"


def _in_play(ctx: ServiceContext, only: str | None) -> list[str]:
    """Symbols that hold shares or may have orders at the broker."""
    with ctx.uow as uow:
        trades = uow.symbols.find((*HELD, SymbolState.ENTERING))
        live = uow.orders.find(day=kst_date(ctx.clock.now()), statuses=UNSETTLED)
        ignored = {t.symbol for t in uow.symbols.find([SymbolState.IGNORED])}
    symbols = ({t.symbol for t in trades} | {o.symbol for o in live}) - ignored
    return sorted(s for s in symbols if only in (None, s))


def _liquidate(ctx: ServiceContext, symbol: str, past_hard_cut: bool) -> str:
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return f"{symbol}: busy"
        # Past the hard cut no more sells: cancel buys, look up unknowns, leave sells working.
        clearance = clear_the_way(ctx, lease, Lane.LIQUIDATION, manage_sells=not past_hard_cut)
        if past_hard_cut or clearance is not Clearance.CLEAR:
            return f"{symbol}: {clearance.value}"
        with ctx.uow as uow:
            trade = uow.symbols.get(symbol)
            orders = uow.orders.find(day=kst_date(ctx.clock.now()), symbol=symbol)
        if trade is None or trade.quantity <= 0:
            return f"{symbol}: nothing held"
        level = _level([o for o in orders if o.side is Side.SELL], trade)
        order_type, price = _sell_terms(ctx, symbol, level)
        result = sell_under_lease(
            ctx, lease, order_type, price, OrderPurpose.LIQUIDATION, f"liquidation level {level}"
        )
        return f"{symbol}: sell {order_type.name} {price}: {result.outcome.value} {result.detail}"


_AUCTION_LIKE = frozenset(
    {
        TradingState.STATIC_VI,
        TradingState.DYNAMIC_VI,
        TradingState.VI,
        TradingState.CLOSING_CALL,
        TradingState.LOWER_LIMIT,
    }
)


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


def _sell_terms(ctx: ServiceContext, symbol: str, level: int) -> tuple[OrderType, int]:
    """A marketable limit ``limit_ticks`` below the best bid first (never below the day's
    lower limit); the escalation type once one was cancelled. In a VI or the closing call
    (or at the lower limit) the exit the state accepts instead: a frozen book's bid would
    miss the auction's price."""
    if level == 0:
        with using_lane(Lane.LIQUIDATION):  # one read: the bids, and the state it says
            book = ctx.broker.orderbook(symbol)
        choice = choose_exit_from_book(ctx, symbol, book)
        if choice.order is not None and choice.state in _AUCTION_LIKE:
            return choice.order.order_type, choice.order.price
        if book.best_bid:
            return OrderType.LIMIT, _below_bid(ctx, symbol, book.best_bid)
    return ctx.trading.liquidation.escalation_order_type, 0


def _below_bid(ctx: ServiceContext, symbol: str, bid: int) -> int:
    with ctx.uow as uow:  # what is stored: a liquidation never waits for a broker lookup
        kind = instrument_kind(uow, symbol)  # an ETF's ticks are not a stock's
    price = ticks_away(bid, -ctx.trading.liquidation.limit_ticks, kind)
    band = ctx.sanity.band(symbol, kst_date(ctx.clock.now()))
    return max(price, band.lower) if band is not None else price


def _still_held(ctx: ServiceContext, only: str | None) -> tuple[str, ...]:
    with ctx.uow as uow:
        held = uow.symbols.find((*HELD, SymbolState.ENTERING))
    return tuple(t.symbol for t in held if only in (None, t.symbol))


def _broker_flat(ctx: ServiceContext, only: str | None, seen: AccountBalance | None) -> bool:
    """The broker's balance (complete; ``seen`` if this round already read it and sent
    nothing since) shows nothing held; a failed read proves nothing."""
    try:
        with using_lane(Lane.LIQUIDATION):
            balance = seen or ctx.broker.balance()
    except BrokerError as exc:
        log.warning("could not read the balance to confirm flat: %s", exc)
        return False
    with ctx.uow as uow:  # shares left alone by EXTERNAL_HOLDINGS=ignore are not ours to sell
        ignored = {t.symbol for t in uow.symbols.find([SymbolState.IGNORED])}
    left = [
        h.symbol
        for h in balance.holdings
        if h.quantity > 0 and only in (None, h.symbol) and h.symbol not in ignored
    ]
    if left:
        log.warning("the ledger is flat but the broker holds %s", ", ".join(left))
    return not left


def _alert_left(ctx: ServiceContext, remaining: tuple[str, ...], only: str | None) -> None:
    ctx.notifier.send(
        Notice(
            "liquidation_incomplete",
            "critical",
            "Liquidation incomplete at the hard cut",
            f"ledger still holds: {', '.join(remaining) or 'nothing'}; "
            f"{_at_the_broker(ctx, only)}; working sells go into the closing auction",
            thread_key=f"liquidation:{kst_date(ctx.clock.now())}",
        )
    )


def _at_the_broker(ctx: ServiceContext, only: str | None) -> str:
    """What the broker really holds and has open, for the alert (or why it is unknown)."""
    try:
        with using_lane(Lane.LIQUIDATION):
            balance = ctx.broker.balance()
            rows = ctx.broker.orders(kst_date(ctx.clock.now()), symbol=only)
    except BrokerError as exc:
        return f"the broker could not be read ({type(exc).__name__})"
    held = [f"{h.symbol} {h.quantity:,}" for h in balance.holdings if h.quantity > 0]
    open_ = [
        f"{r.side.value} {r.symbol} {r.remaining_quantity:,}@{r.price:,} ({r.broker_order_no})"
        for r in rows
        if r.is_open
    ]
    return (
        f"the broker holds: {', '.join(held) or 'nothing'}; "
        f"open at the broker: {', '.join(open_) or 'nothing'}"
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
