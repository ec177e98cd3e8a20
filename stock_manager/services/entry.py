"""Entries: priced from a fresh quote, admitted against every cap where the intent is
written (``services/admission.py``), then sent through the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stock_manager.domain.orders import OrderType
from stock_manager.domain.risk import Cap, EntryProposal, Refusal, check_order
from stock_manager.ports import Lane, using_lane
from stock_manager.services import market
from stock_manager.services.admission import Pricing, price_entry
from stock_manager.services.context import ServiceContext
from stock_manager.services.exposure import read_book
from stock_manager.services.orders import Outcome, SendResult, enter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """A strategy's decision to buy, as the scan fans it out. ``price`` is the limit price;
    a market-type order's own price is never used (the entry is priced from a quote)."""

    symbol: str
    quantity: int
    price: int
    order_type: OrderType
    strategy: str
    reason: str = ""


def enter_checked(ctx: ServiceContext, plan: EntryPlan) -> SendResult:
    """Price the entry from the market now, admit it against every cap and send it; a
    refused entry is SKIPPED with the caps it broke (``SendResult.refusals``), logged."""
    proposal = EntryProposal(plan.symbol, plan.quantity, plan.price, plan.order_type)
    refusals = check_order(proposal)
    if refusals:
        return _refused(plan, refusals)
    with using_lane(Lane.ENTRY):
        pricing = price_entry(ctx, plan.symbol, plan.quantity, plan.price, plan.order_type)
    if isinstance(pricing, Refusal):
        return _refused(plan, [pricing])
    result = enter(ctx, *_args(plan), pricing=pricing)
    if result.refusals:
        _refused(plan, list(result.refusals), pricing)
    if any(r.cap is Cap.DAILY_LOSS for r in result.refusals):
        _halt_for_daily_loss(ctx)
    return result


def _args(plan: EntryPlan) -> tuple[str, int, int, OrderType, str]:
    return plan.symbol, plan.quantity, plan.price, plan.order_type, plan.strategy


def _refused(
    plan: EntryPlan, refusals: list[Refusal], pricing: Pricing | None = None
) -> SendResult:
    caps = ",".join(r.cap.value for r in refusals)
    detail = "; ".join(str(r) for r in refusals)
    at = f" at {pricing.reserve_price:,}" if pricing else ""
    log.warning(
        "entry %s %s x %s%s refused [%s]: %s",
        plan.symbol,
        plan.quantity,
        plan.order_type.name,
        at,
        caps,
        detail,
    )
    return SendResult(Outcome.SKIPPED, detail=detail, refusals=tuple(refusals))


def _halt_for_daily_loss(ctx: ServiceContext) -> None:
    book = read_book(ctx.uow, ctx.clock.now())
    before = market.current(ctx.uow, ctx.clock)
    state = market.halt(ctx.uow, ctx.clock, f"daily loss {book.daily_pnl:,} won", ctx.actor)
    if state is not before:
        ctx.notifier.send(market.daily_loss_notice(book.daily_pnl))
