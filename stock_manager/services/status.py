"""A read-only snapshot of the system for ``stock-manager status`` and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stock_manager.domain.clock import kst_date
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import TERMINAL_ORDER_STATUSES, Order, OrderStatus
from stock_manager.domain.records import WorkerProcess
from stock_manager.domain.trade import SymbolTrade
from stock_manager.ports import Clock, Lease, LeaseLock, UnitOfWork

OPEN_STATUSES = tuple(s for s in OrderStatus if s not in TERMINAL_ORDER_STATUSES)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    day: date
    market: MarketState
    symbols: list[SymbolTrade]
    open_orders: list[Order]
    leases: list[Lease]
    workers: list[WorkerProcess]


def snapshot(uow: UnitOfWork, locks: LeaseLock, clock: Clock) -> StatusSnapshot:
    day = kst_date(clock.now())
    with uow:
        market = uow.market.get(day)
        symbols = uow.symbols.find()
        orders = uow.orders.find(statuses=OPEN_STATUSES)
        workers = uow.workers.all()
    return StatusSnapshot(day, market, symbols, orders, locks.held(), workers)
