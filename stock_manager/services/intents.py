"""Writing an order's intent: step (1) of ``services/orders.py``, and of an exit taken in
the same transaction as a mark (``services/prices.py``).

Inside an open unit of work and under the symbol's lease, the symbol moves and the order is
written NEW with its idempotency key, or the reason it may not be opened now is returned. A
buy is admitted here (``admission.admit``) so its caps and its intent share one transaction.
Nothing here calls the broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Order, OrderPurpose, OrderType, Side
from stock_manager.domain.risk import EntryProposal, Refusal
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.ports import UnitOfWork
from stock_manager.services.admission import Pricing, admit
from stock_manager.services.context import ServiceContext
from stock_manager.services.ledger import Writer, open_order


@dataclass(frozen=True, slots=True)
class Refused:
    """Why an order may not be opened now; ``refusals`` name the caps an entry broke."""

    detail: str
    refusals: tuple[Refusal, ...] = ()


def open_in(
    uow: UnitOfWork,
    w: Writer,
    ctx: ServiceContext,
    trade: SymbolTrade,
    side: Side,
    quantity: int,
    price: int,
    order_type: OrderType,
    purpose: OrderPurpose,
    note: str,
    pricing: Pricing | None = None,
    changes: Mapping[str, object] | None = None,
) -> Order | Refused:
    """Inside an open unit of work and under the symbol's lease: write the intent and move
    the symbol, or return why not. A sell is for everything held; a buy is admitted
    (``admission.admit``: every cap, under the day's lock) before its intent is written in the
    same transaction, priced by ``pricing`` (default: at its limit). ``changes`` ride along on
    the symbol's row (a mark taken in the same transaction)."""
    today = uow.orders.find(day=kst_date(w.at), symbol=trade.symbol)
    refusal = _refusal(uow, w, trade, today, side, order_type, ctx)
    if refusal:
        return Refused(refusal)
    buying = side is Side.BUY
    reserve = 0
    if buying:
        pricing = pricing or Pricing.at_limit(order_type, price)
        proposal = EntryProposal(trade.symbol, quantity, price, order_type)
        refusals = admit(uow, ctx, w.at, proposal, pricing)
        if refusals:
            return Refused("; ".join(str(r) for r in refusals), tuple(refusals))
        reserve = pricing.reserve_price
    event = SymbolEvent.BUY_SIGNAL if buying else SymbolEvent.EXIT_SIGNAL
    fields = {**(changes or {}), **({"strategy": note} if buying else {"note": note})}
    _, order = open_order(
        uow,
        w,
        trade,
        event,
        side,
        quantity if buying else trade.quantity,
        price,
        order_type,
        purpose,
        today,
        reserve,
        **fields,
    )
    return order


def _refusal(
    uow: UnitOfWork,
    w: Writer,
    trade: SymbolTrade,
    today: Sequence[Order],
    side: Side,
    order_type: OrderType,
    ctx: ServiceContext,
) -> str:
    """Why this order may not be opened now, or ``""``: what concerns the symbol alone.
    A buy's market state, order type and caps are admission's (``admission.admit``)."""
    if side is Side.SELL and order_type not in ctx.policy.order_types:
        return f"order type {order_type.name} is not available in this environment"
    if any(o.status.may_be_live for o in today):
        return f"{trade.symbol} has an order that may be live"
    if side is Side.BUY:
        if trade.state is not SymbolState.FLAT:
            return f"{trade.symbol} is {trade.state.value}, not FLAT"
        return ""
    if trade.state not in (SymbolState.HOLDING, SymbolState.QUARANTINED) or trade.quantity <= 0:
        return f"{trade.symbol} holds nothing to sell ({trade.state.value})"
    return ""
