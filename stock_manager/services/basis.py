"""Opening lots: today's FIFO book must explain what the broker holds.

The day's book is built from the day's fills (ours and external ones) and position
adjustments (``domain/pnl.py``). For a symbol with nothing in flight, what the broker holds
now minus what the day's book adds up to is what the book is missing:

* more than zero: shares held since before the day (carried over, or that arrived with no
  order at all) — a ``CARRIED`` lot at the start of the day, at the broker's average purchase
  price (``pchs_avg_pric``; else the ledger's average; else the day's sell price, so nothing
  is invented);
* less than zero: shares that left without a fill — a ``DRIFT`` adjustment now, at cost.

Recorded once per fix (the key counts the symbol's adjustments of the day), under the
symbol's lease, so a second reconciliation finds nothing missing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from stock_manager.domain.broker import Holding
from stock_manager.domain.clock import KST, kst_date
from stock_manager.domain.orders import Fill, Side
from stock_manager.domain.pnl import AdjustmentKind, PositionAdjustment
from stock_manager.domain.trade import SymbolTrade
from stock_manager.services.context import ServiceContext
from stock_manager.services.leasing import symbol_lease

log = logging.getLogger(__name__)


def ensure_basis(
    ctx: ServiceContext, symbol: str, holding: Holding | None, trade: SymbolTrade | None
) -> PositionAdjustment | None:
    """Record what today's book lacks to explain ``holding`` (see the module docstring)."""
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return None
        day = kst_date(ctx.clock.now())
        with ctx.uow as uow:
            fills = [f for f in uow.fills.for_day(day) if f.symbol == symbol]
            adjustments = [a for a in uow.adjustments.for_day(day) if a.symbol == symbol]
            net = sum(f.quantity if f.side is Side.BUY else -f.quantity for f in fills)
            net += sum(a.quantity for a in adjustments)
            missing = (holding.quantity if holding else 0) - net
            if missing == 0:
                return None
            adjustment = _adjustment(ctx, day, symbol, missing, holding, trade, fills)
            key = f"{day:%Y%m%d}:{symbol}:{adjustment.kind.value}:{len(adjustments)}"
            uow.adjustments.add(key, adjustment)
            uow.commit()
    log.warning(
        "%s: the day's book lacked %+d shares; recorded %s at %s",
        symbol,
        missing,
        adjustment.kind.value,
        adjustment.price,
    )
    return adjustment


def _adjustment(
    ctx: ServiceContext,
    day: date,
    symbol: str,
    missing: int,
    holding: Holding | None,
    trade: SymbolTrade | None,
    fills: list[Fill],
) -> PositionAdjustment:
    if missing < 0:
        note = "shares left the account with no fill"
        return PositionAdjustment(symbol, missing, 0, ctx.clock.now(), AdjustmentKind.DRIFT, note)
    start = datetime.combine(day, time(0, 0), tzinfo=KST)
    price = _basis(holding, trade, fills)
    note = "held before the day, or arrived with no order"
    return PositionAdjustment(symbol, missing, price, start, AdjustmentKind.CARRIED, note)


def _basis(holding: Holding | None, trade: SymbolTrade | None, fills: list[Fill]) -> int:
    if holding is not None and holding.average_price > 0:
        return int(holding.average_price.to_integral_value())
    if trade is not None and trade.quantity > 0:
        return int(trade.average_price.to_integral_value())
    sells = [f for f in fills if f.side is Side.SELL]
    sold = sum(f.quantity for f in sells)
    return sum(f.notional for f in sells) // sold if sold else 0
