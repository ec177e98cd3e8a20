"""The account as the risk checks see it: positions, exposure, today's PnL, order rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from stock_manager.domain.clock import kst_date
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import Order, OrderStatus, Side
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
    pending_buy_notional: int  # what every buy that may still fill has reserved
    daily_pnl: int
    orders_last_minute: int
    held_symbols: frozenset[str]
    # Reserved by buys the broker cannot have counted in a buying power read at a given
    # moment: those not sent yet (NEW) and those written since (``book_in``'s ``since``).
    unseen_buy_notional: int = 0

    @property
    def total_notional(self) -> int:
        return self.held_notional + self.pending_buy_notional


def read_book(uow: UnitOfWork, now: datetime) -> Book:
    """:func:`book_in` in a transaction of its own."""
    with uow:
        return book_in(uow, now)


def book_in(uow: UnitOfWork, now: datetime, since: datetime | None = None) -> Book:
    """The book inside an open unit of work. Every buy that may still fill (NEW, SUBMITTED,
    UNKNOWN, partly filled, being cancelled) counts with its remaining shares at the price it
    was admitted at (``Order.reserved_notional``)."""
    day = kst_date(now)
    trades = uow.symbols.find()
    orders = uow.orders.find(day=day)
    fills = uow.fills.for_day(day)
    adjustments = uow.adjustments.for_day(day)
    marks = {t.symbol: t.last_price for t in trades if t.last_price}
    result = fifo(fills, adjustments=adjustments)
    busy = [t for t in trades if t.state is not SymbolState.FLAT]
    buys = [o for o in orders if o.side is Side.BUY and o.status.may_be_live]
    recent = now - timedelta(minutes=1)
    return Book(
        open_positions=len(busy),
        held_notional=sum(t.cost for t in busy),
        pending_buy_notional=sum(o.reserved_notional for o in buys),
        daily_pnl=result.realized + result.unrealized(marks),
        orders_last_minute=sum(1 for o in orders if o.created_at and o.created_at >= recent),
        held_symbols=frozenset(t.symbol for t in busy),
        unseen_buy_notional=sum(o.reserved_notional for o in buys if _unseen(o, since)),
    )


def _unseen(order: Order, since: datetime | None) -> bool:
    if order.status is OrderStatus.NEW:
        return True
    return since is not None and order.created_at is not None and order.created_at >= since


def exposure(
    ctx: ServiceContext,
    book: Book,
    market: MarketState,
    buying_power: int | None,
    limits: PriceLimits | None,
) -> Exposure:
    """The exposure an entry is judged against, from a book and the market state read in
    the same transaction."""
    now = ctx.clock.now()
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
