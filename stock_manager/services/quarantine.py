"""Lifting a quarantine once a person has looked: the symbol takes the broker's quantity."""

from __future__ import annotations

from dataclasses import dataclass

from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import OrderStatus
from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.domain.trade import SymbolEvent, SymbolState
from stock_manager.ports import Lane, using_lane
from stock_manager.services.context import ServiceContext
from stock_manager.services.leasing import symbol_lease
from stock_manager.services.ledger import save_symbol
from stock_manager.services.writes import writer


@dataclass(frozen=True, slots=True)
class Release:
    released: bool
    detail: str


def release(ctx: ServiceContext, symbol: str, reason: str = "released by hand") -> Release:
    """QUARANTINED -> HOLDING (with the broker's quantity) or FLAT, if nothing is in flight."""
    with using_lane(Lane.SYNC):
        holding = ctx.broker.balance().holding(symbol)
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return Release(False, f"{symbol} is busy; try again")
        w = writer(ctx, lease)
        with ctx.uow as uow:
            trade = uow.symbols.get(symbol)
            if trade is None or trade.state is not SymbolState.QUARANTINED:
                return Release(False, f"{symbol} is not quarantined")
            live = uow.orders.find(
                day=kst_date(w.at),
                symbol=symbol,
                statuses=[s for s in OrderStatus if s.may_be_live],
            )
            if live:
                return Release(False, f"{symbol} has {len(live)} order(s) that may be live")
            quantity = holding.quantity if holding else 0
            cost = int(holding.average_price * quantity) if holding else 0
            event = SymbolEvent.RELEASE_HOLDING if quantity else SymbolEvent.RELEASE_FLAT
            after = trade.apply(event, quantity=quantity, cost=cost, note=reason[:200])
            save_symbol(uow, w, trade, after, event.value)
            uow.recovery.record(
                RecoveryEntry(
                    RecoveryKind.QUARANTINED,
                    "released",
                    w.at,
                    symbol,
                    {"quantity": quantity, "reason": reason},
                )
            )
            uow.commit()
    return Release(True, f"{symbol} is {after.state.value} with {quantity:,} shares")
