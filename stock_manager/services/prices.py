"""Price checks: marks and trailing levels for held symbols, and the exits they trigger.

The 2-second poll quotes every held symbol in one batch; a tick from the stream runs the
same evaluation for its symbol at once and exits in the same task. Marks are written under
the symbol's lease (a busy symbol is skipped: whoever holds it is already acting on it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from stock_manager.domain.clock import kst_date
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import OrderPurpose
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.ports import Lane, using_lane
from stock_manager.services import market
from stock_manager.services.context import ServiceContext
from stock_manager.services.exposure import read_book
from stock_manager.services.leasing import symbol_lease
from stock_manager.services.ledger import save_symbol
from stock_manager.services.orders import SendResult, exit_position, writer

log = logging.getLogger(__name__)
HELD = (SymbolState.HOLDING, SymbolState.QUARANTINED)


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
    """Quote held symbols, update marks, and return the exits due (the task fans them out)."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        held = uow.symbols.find(HELD)
    session = ctx.calendar.session(kst_date(now))
    due = session is not None and session.must_liquidate(now) and bool(held)
    if not held:
        return PriceCheck(0, (), False)
    with using_lane(Lane.EXIT):
        quotes = ctx.broker.quotes([t.symbol for t in held])
    exits = []
    for trade in held:
        quote = quotes.get(trade.symbol)
        if quote is None:
            continue
        marked = mark(ctx, trade.symbol, quote.price) or trade
        plan = None if due else exit_due(ctx, marked, quote.price, now)
        if plan:
            exits.append(plan)
    _check_daily_loss(ctx, now)
    return PriceCheck(len(held), tuple(exits), due)


def on_tick(ctx: ServiceContext, symbol: str, price: int) -> SendResult | None:
    """The stream's fast path: evaluate and, if an exit is due, send it now; then mark.

    The verdict is taken on the row as read with this price applied (the high-water mark
    it would raise), so the sell does not wait for the mark's lease and commit; the exit
    re-checks the position under the lease before anything is sent."""
    with ctx.uow as uow:
        trade = uow.symbols.get(symbol)
    result = None
    if trade is not None and trade.state in HELD:
        seen = replace(trade, last_price=price, high_water=max(trade.high_water, price))
        plan = exit_due(ctx, seen, price, ctx.clock.now())
        result = exit_now(ctx, plan) if plan else None
    mark(ctx, symbol, price)
    return result


def exit_now(ctx: ServiceContext, plan: ExitPlan) -> SendResult:
    """Sell at the best bid (최유리지정가): no extra quote needed, fills at once if bid exists."""
    purpose = (
        OrderPurpose.LIQUIDATION if plan.reason is ExitReason.LIQUIDATION else OrderPurpose.EXIT
    )
    return exit_position(
        ctx,
        plan.symbol,
        ctx.trading.exit_order_type,
        0,
        purpose,
        f"{plan.reason.value} {plan.detail}".strip(),
    )


def mark(ctx: ServiceContext, symbol: str, price: int) -> SymbolTrade | None:
    """Record the latest price and raise the high-water mark; ``None`` if busy or unknown."""
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return None
        w = writer(ctx, lease)
        with ctx.uow as uow:
            trade = uow.symbols.get(symbol)
            if trade is None or (trade.last_price == price and trade.high_water >= price):
                return trade
            after = replace(trade, last_price=price, high_water=max(trade.high_water, price))
            saved = save_symbol(uow, w, trade, after, "mark")
            uow.commit()
        return saved


def exit_due(ctx: ServiceContext, trade: SymbolTrade, price: int, now: datetime) -> ExitPlan | None:
    """The exit policy's verdict for a held symbol at ``price`` (strategy sells are the scan's)."""
    if trade.state not in HELD or trade.quantity <= 0:
        return None
    reason = ctx.trading.exits.evaluate(
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
