"""Entries: sized, risk-checked at the moment of sending, then sent through the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderType
from stock_manager.domain.risk import EntryProposal, check_entry
from stock_manager.ports import Lane, using_lane
from stock_manager.services import market
from stock_manager.services.context import ServiceContext
from stock_manager.services.exposure import exposure, read_book
from stock_manager.services.instruments import instrument_of
from stock_manager.services.orders import Outcome, SendResult, enter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """A strategy's decision to buy, as the scan fans it out."""

    symbol: str
    quantity: int
    price: int
    order_type: OrderType
    strategy: str
    reason: str = ""


def enter_checked(ctx: ServiceContext, plan: EntryPlan) -> SendResult:
    """Run every risk check against the account as it is now, then send the entry."""
    book = read_book(ctx.uow, ctx.clock.now())
    with using_lane(Lane.ENTRY):
        kind = instrument_of(ctx, plan.symbol).kind
        quote = ctx.broker.quote(plan.symbol)
        power = ctx.broker.buying_power(plan.symbol, plan.price)
    limits = PriceLimits(quote.base_price, quote.upper_limit, quote.lower_limit, kind)
    current = exposure(ctx, book, power.max_amount, limits)
    proposal = EntryProposal(plan.symbol, plan.quantity, plan.price, plan.order_type, kind)
    reasons = check_entry(proposal, current, ctx.trading.risk)
    if current.daily_pnl <= -ctx.trading.risk.max_daily_loss:
        market.halt(ctx.uow, ctx.clock, f"daily loss {current.daily_pnl:,} won", ctx.actor)
        ctx.notifier.send(market.daily_loss_notice(current.daily_pnl))
    if reasons:
        log.info("entry %s refused: %s", plan.symbol, "; ".join(reasons))
        return SendResult(Outcome.SKIPPED, detail="; ".join(reasons))
    return enter(ctx, plan.symbol, plan.quantity, plan.price, plan.order_type, plan.strategy)
