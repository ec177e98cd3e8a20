"""Price checks: marks and trailing levels for held symbols, and the exits they trigger.

The 2-second poll quotes every held symbol in one batch and marks them all in one write
(``SymbolRepository.mark_prices``): a mark changes no state, so it takes no lease and leaves
version and fence alone. The exits it makes due are fanned out; each takes its symbol's lease
and moves the state. A tick from the stream judges its symbol at once, under the lease, and
exits in the same task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from stock_manager.domain.broker import BrokerError, Quote
from stock_manager.domain.clock import kst_date
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import Order, OrderPurpose, Side
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.domain.trading_state import TickState
from stock_manager.ports import Lane, UnitOfWork, using_lane
from stock_manager.services import market
from stock_manager.services.clearing import Clearance, clear_the_way
from stock_manager.services.context import ServiceContext, TradingPolicy
from stock_manager.services.exit_orders import ExitChoice, choose_exit, learn_band
from stock_manager.services.exposure import read_book
from stock_manager.services.external import EXTERNAL_STRATEGY
from stock_manager.services.intents import open_in
from stock_manager.services.isolation import guarded, per_symbol
from stock_manager.services.leasing import HeldLease, symbol_lease
from stock_manager.services.ledger import Writer, save_symbol
from stock_manager.services.orders import Outcome, SendResult, exit_position, send_opened
from stock_manager.services.writes import writer

log = logging.getLogger(__name__)
HELD = (SymbolState.HOLDING, SymbolState.QUARANTINED)
# An exit is judged on these too: a symbol still ENTERING (a buy partly filled) or EXITING (a
# sell working or unresolved) holds shares that a stop must reach; clearing makes way.
EXITABLE = (*HELD, SymbolState.ENTERING, SymbolState.EXITING)
# How long a tick waits for a lease held by another task of the symbol (a mark takes a few
# ms); a longer holder is acting on the symbol itself, and the tick expires in 3 s anyway.
TICK_LEASE_WAIT = 0.25


@dataclass(frozen=True, slots=True)
class ExitPlan:
    symbol: str
    reason: ExitReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PriceCheck:
    marked: int
    exits: tuple[ExitPlan, ...]
    liquidation_due: bool


def check_prices(ctx: ServiceContext) -> PriceCheck:
    """Quote held symbols, mark them in one batched write, and return the exits due (the
    task fans them out). 1,000 held symbols: 34 multi-quotes and one ``UPDATE``.

    Exits are judged from the values read before the quotes, marked with the quoted price;
    a failed mark write is alerted and the exits still go out."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        held = [t for t in uow.symbols.find(EXITABLE) if t.quantity > 0]
    session = ctx.calendar.session(kst_date(now))
    due = session is not None and session.must_liquidate(now) and bool(held)
    if not held:
        return PriceCheck(0, (), False)
    with using_lane(Lane.EXIT):
        quotes = ctx.broker.quotes([t.symbol for t in held])
    sane = {s: q for s, q in quotes.items() if _sane_quote(ctx, q, now)}  # others dropped
    priced = {t.symbol: sane[t.symbol].price for t in held if t.symbol in sane}
    guarded(ctx, "price marks", partial(_mark_all, ctx, priced), 0)
    exits = []
    for trade in held:
        if due or trade.symbol not in priced:
            continue
        step = partial(_exit_at, ctx, trade, priced[trade.symbol])
        plan = per_symbol(ctx, trade.symbol, "price check", step, None)
        if plan:
            exits.append(plan)
    guarded(ctx, "daily loss check", partial(_check_daily_loss, ctx, now), None)
    return PriceCheck(len(held), tuple(exits), due)


def _sane_quote(ctx: ServiceContext, quote: Quote, now: datetime) -> bool:
    """Learn the quote's band; a price outside it (or impossible) is dropped and counted."""
    learn_band(ctx, quote, now)
    fault = ctx.sanity.admit(quote.symbol, kst_date(now), quote.price)
    if fault is not None:
        log.warning(
            "dropped an impossible quote of %s at %s: %s", quote.symbol, quote.price, fault.value
        )
    return fault is None


def sane_tick(ctx: ServiceContext, symbol: str, price: int, seen: TickState | None = None) -> bool:
    """Whether a tick's ``price`` may be acted on: judged against the day's band (the band
    the stream sent with the tick, else a quote read once a day per process for a symbol
    whose band is not known yet). An impossible price is dropped, counted
    (``ctx.sanity.dropped``) and logged; it never acts."""
    now = ctx.clock.now()
    day = kst_date(now)
    if ctx.sanity.band(symbol, day) is None and seen is not None and seen.band is not None:
        ctx.sanity.learn(symbol, day, seen.band)
    if ctx.sanity.band(symbol, day) is None and price > 0:
        try:
            with using_lane(Lane.EXIT):
                learn_band(ctx, ctx.broker.quote(symbol), now)
        except BrokerError as exc:  # the sign and grid checks still apply
            log.warning("no band for %s: %s", symbol, exc)
    fault = ctx.sanity.admit(symbol, day, price)
    if fault is not None:
        log.warning("dropped an impossible tick of %s at %s: %s", symbol, price, fault.value)
    return fault is None


def _mark_all(ctx: ServiceContext, priced: dict[str, int]) -> int:
    with ctx.uow as uow:
        marked = uow.symbols.mark_prices(priced)
        uow.commit()
    return marked


def on_tick(
    ctx: ServiceContext,
    symbol: str,
    price: int,
    high: int = 0,
    seen: TickState | None = None,
    exit_due: bool = False,
) -> SendResult | None:
    """The stream's fast path: judge the exit at this price and, if one is due, mark, write
    the intent and send it under the symbol's lease, with one commit before the sell.

    The stream only forwards ticks that can change something (its ``TickGate``: a new high
    or an exit, judged from a snapshot of the ledger). The tick is judged first from the
    ledger without a lease: a new high that makes no exit due is marked lease-free
    (``mark_high``, like the price checks' marks), so the lease stays free for an exit tick
    right behind it (issue 16); a due exit takes the lease and is judged again under it. A
    tick that changes nothing writes nothing; the price checks keep ``last_price`` current
    every 2 s. An exit tick comes unpaced, so it can arrive while another task of the
    symbol holds the lease: it waits up to ``TICK_LEASE_WAIT`` for it rather than for the
    next tick. ``high`` is the
    highest price the stream forwarded for the symbol since its last tick task (a new high
    it coalesced away): it counts as marked, so the trailing stop the stream saw is the one
    judged here. An impossible price (outside the day's band, not positive, off the grid)
    is dropped before anything (``sane_tick``); the exit's order type follows the symbol's
    trading state (``exit_orders.choose_exit``): the state the tick's record gave
    (``seen``) where it gave one, so a crossing reads no quote on its way to the sell. A
    tick the stream judged an exit (``exit_due``) skips the lease-free read: it is judged
    under the lease anyway, and a stale judgement there only costs that judgement."""
    if not sane_tick(ctx, symbol, price, seen):
        return None
    if not exit_due and not _exit_due_or_marked(ctx, symbol, price, high):
        return None
    with symbol_lease(ctx, symbol, wait=TICK_LEASE_WAIT) as lease:
        if lease is None:
            return None  # whoever holds it is acting on the symbol; the next tick follows
        # the record's state prices the exit without I/O: the intent is written in one pass
        told = seen is not None and seen.halted is not None
        choice: ExitChoice | None = choose_exit(ctx, symbol, seen, price) if told else None
        acted = _act_on_tick(ctx, lease, price, high, choice)
        if acted.unpriced is not None:  # due: price it for the symbol's state, then write it
            choice = choice or choose_exit(ctx, symbol, seen, price)
            if choice.order is None:
                log.warning("%s exit held: %s accepts no order", symbol, choice.state.value)
                return None
            acted = _act_on_tick(ctx, lease, price, high, choice)
        if acted.blocked is not None:  # an exit is due but an order may be live: clear it
            clearance = clear_the_way(ctx, lease, _lane(acted.blocked))
            if clearance is not Clearance.CLEAR:
                return None
            acted = _act_on_tick(ctx, lease, price, high, choice)
        if acted.order is None or acted.plan is None:
            return None
        return send_opened(ctx, lease, acted.order, _lane(acted.plan))


def _exit_due_or_marked(ctx: ServiceContext, symbol: str, price: int, high: int) -> bool:
    """Without a lease: whether an exit is due at ``price`` (the caller takes the lease and
    judges again); if not, a new high is marked for the symbol's current round trip."""
    top = max(price, high)
    with ctx.uow as uow:
        trade = uow.symbols.get(symbol)
        if trade is None or trade.state not in EXITABLE:
            return False
        if _exit_at(ctx, trade, price, top) is not None:
            return True
        if trade.marked(top).high_water > trade.high_water:
            uow.symbols.mark_high(symbol, trade.trade_seq, price, top)
            uow.commit()
    return False


@dataclass(frozen=True, slots=True)
class _Acted:
    order: Order | None = None
    plan: ExitPlan | None = None
    blocked: ExitPlan | None = None  # due, but the symbol has an order that may be live
    unpriced: ExitPlan | None = None  # due, but its order type is not chosen yet


def _act_on_tick(
    ctx: ServiceContext, lease: HeldLease, price: int, high: int, choice: ExitChoice | None
) -> _Acted:
    """In one transaction: mark ``price`` (and ``high``) if it is a new high or an exit is
    due, and write the exit intent if one is (and nothing of the symbol may be live) with
    ``choice``'s order (without a choice a due exit only reports itself as ``unpriced``)."""
    w = writer(ctx, lease)
    top = max(price, high)
    with ctx.uow as uow:
        trade = uow.symbols.get(lease.symbol)
        if trade is None or trade.state not in EXITABLE:
            return _Acted()
        plan = _exit_at(ctx, trade, price, top)
        high_water = trade.marked(top).high_water
        if plan is None and high_water <= trade.high_water:
            return _Acted()
        mark = {"last_price": price, "high_water": high_water}
        if plan is not None and (choice is None or choice.order is None):
            return _Acted(unpriced=plan)  # priced outside the transaction: a quote is read
        order = _open_exit(uow, w, ctx, trade, plan, mark, choice) if plan else None
        if plan is not None and order is None:
            return _Acted(blocked=plan)  # due, but something is live: clear it first
        if order is None:
            save_symbol(uow, w, trade, replace(trade, **mark), "mark")  # type: ignore[arg-type]
        uow.commit()
    return _Acted(order, plan)


def _exit_at(ctx: ServiceContext, trade: SymbolTrade, price: int, top: int = 0) -> ExitPlan | None:
    """The exit policy's verdict as if this price (and ``top``, a high seen since the last
    mark) were marked (a new high counts)."""
    marked = replace(trade.marked(price), high_water=trade.marked(max(price, top)).high_water)
    return exit_due(ctx, marked, price, ctx.clock.now())


def _open_exit(
    uow: UnitOfWork,
    w: Writer,
    ctx: ServiceContext,
    trade: SymbolTrade,
    plan: ExitPlan,
    mark: dict[str, int],
    choice: ExitChoice | None,
) -> Order | None:
    if choice is None or choice.order is None:
        return None
    opened = open_in(
        uow,
        w,
        ctx,
        trade,
        Side.SELL,
        0,
        choice.order.price,
        choice.order.order_type,
        _purpose(plan),
        f"{plan.reason.value} {plan.detail}".strip(),
        changes=mark,
    )
    return opened if isinstance(opened, Order) else None


def _purpose(plan: ExitPlan) -> OrderPurpose:
    return OrderPurpose.LIQUIDATION if plan.reason is ExitReason.LIQUIDATION else OrderPurpose.EXIT


def _lane(plan: ExitPlan | None) -> Lane:
    return Lane.LIQUIDATION if plan and plan.reason is ExitReason.LIQUIDATION else Lane.EXIT


def exit_now(ctx: ServiceContext, plan: ExitPlan) -> SendResult:
    """Sell with the order the symbol's trading state accepts: the configured type (최유리
    지정가) in continuous trading, a limit at the lower limit (or market) in a VI auction or
    the closing call; nothing during a halt (the next price check tries again)."""
    purpose = _purpose(plan)
    choice = choose_exit(ctx, plan.symbol)
    if choice.order is None:
        return SendResult(Outcome.SKIPPED, detail=f"{plan.symbol}: {choice.state.value}")
    return exit_position(
        ctx,
        plan.symbol,
        choice.order.order_type,
        choice.order.price,
        purpose,
        f"{plan.reason.value} {plan.detail}".strip(),
    )


def exit_due(ctx: ServiceContext, trade: SymbolTrade, price: int, now: datetime) -> ExitPlan | None:
    """The exit policy's verdict for a symbol holding shares at ``price`` (strategy sells are
    the scan's), whatever orders it has in flight."""
    return exit_verdict(ctx.trading, trade, price, now)


def exit_verdict(
    trading: TradingPolicy, trade: SymbolTrade, price: int, now: datetime
) -> ExitPlan | None:
    """:func:`exit_due` without the context: the pure decision the backtest shares."""
    if trade.state not in EXITABLE or trade.quantity <= 0:
        return None
    if trade.strategy == EXTERNAL_STRATEGY and trading.external_holdings == "liquidate":
        return ExitPlan(trade.symbol, ExitReason.EXTERNAL, "a holding the system did not open")
    reason = trading.exits.evaluate(
        trade.average_price, trade.high_water, price, trade.entered_at, now
    )
    if reason is None:
        return None
    return ExitPlan(trade.symbol, reason, f"at {price:,} (avg {trade.average_price:,.0f})")


def _check_daily_loss(ctx: ServiceContext, now: datetime) -> None:
    book = read_book(ctx.uow, now)
    if book.daily_pnl > -ctx.trading.risk.max_daily_loss:
        return
    before = market.current(ctx.uow, ctx.clock)
    state = market.halt(ctx.uow, ctx.clock, f"daily loss {book.daily_pnl:,} won", ctx.actor)
    if state is not before:
        ctx.notifier.send(market.daily_loss_notice(book.daily_pnl))
