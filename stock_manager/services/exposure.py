"""The account as the risk checks see it: positions, exposure, today's PnL, order rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from stock_manager.domain.clock import kst_date
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderStatus, Side
from stock_manager.domain.pnl import fifo
from stock_manager.domain.risk import Exposure
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class Book:
    """The ledger's view of the day, read in one transaction."""

    open_positions: int
    held_notional: int
    pending_buy_notional: int
    daily_pnl: int
    orders_last_minute: int
    held_symbols: frozenset[str]

    @property
    def total_notional(self) -> int:
        return self.held_notional + self.pending_buy_notional


def read_book(uow: UnitOfWork, now: datetime) -> Book:
    day = kst_date(now)
    with uow:
        trades = uow.symbols.find()
        orders = uow.orders.find(day=day)
        fills = uow.fills.for_day(day)
        adjustments = uow.adjustments.for_day(day)
    marks = {t.symbol: t.last_price for t in trades if t.last_price}
    result = fifo(fills, adjustments=adjustments)
    busy = [t for t in trades if t.state is not SymbolState.FLAT]
    pending = sum(
        o.remaining_quantity * o.price
        for o in orders
        if o.side is Side.BUY and o.status.may_be_live and o.status is not OrderStatus.NEW
    )
    recent = now - timedelta(minutes=1)
    return Book(
        open_positions=len(busy),
        held_notional=sum(t.cost for t in busy),
        pending_buy_notional=pending,
        daily_pnl=result.realized + result.unrealized(marks),
        orders_last_minute=sum(1 for o in orders if o.created_at and o.created_at >= recent),
        held_symbols=frozenset(t.symbol for t in busy),
    )


def exposure(
    ctx: ServiceContext, book: Book, buying_power: int, limits: PriceLimits | None
) -> Exposure:
    now = ctx.clock.now()
    with ctx.uow as uow:
        market = uow.market.get(kst_date(now))
    return Exposure(
        now=now,
        market=market,
        session=ctx.calendar.session(kst_date(now)),
        open_positions=book.open_positions,
        total_notional=book.total_notional,
        daily_pnl=book.daily_pnl,
        buying_power=buying_power,
        orders_last_minute=book.orders_last_minute,
        limits=limits,
        allowed_order_types=ctx.policy.order_types,
        fees=ctx.policy.fees,
    )
