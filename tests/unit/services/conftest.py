"""A world of fakes for service tests: clock, calendar, broker, ledger, leases, notifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderStatus
from stock_manager.domain.trade import SymbolTrade
from stock_manager.services.context import LedgerPolicy, ServiceContext, TradingPolicy
from tests.fakes.broker import FakeBroker
from tests.fakes.ports import FakeCalendar, FakeClock, FakeLeaseLock, FakeNotifier
from tests.fakes.uow import FakeUnitOfWork

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=KST)


@dataclass
class World:
    ctx: ServiceContext
    clock: FakeClock
    broker: FakeBroker
    uow: FakeUnitOfWork
    locks: FakeLeaseLock
    notifier: FakeNotifier

    @property
    def day(self):  # type: ignore[no-untyped-def]
        return self.clock.now().date()

    def symbol(self, symbol: str = "005930") -> SymbolTrade:
        with self.uow:
            trade = self.uow.symbols.get(symbol)
        return trade or SymbolTrade(symbol)

    def orders(self, symbol: str | None = None) -> list:  # type: ignore[type-arg]
        with self.uow:
            return self.uow.orders.find(symbol=symbol)

    def set_market(self, state: MarketState) -> None:
        with self.uow:
            before = self.uow.market.get(self.day)
            self.uow.market.save(self.day, before, state, "test")
            self.uow.commit()

    def submits(self) -> int:
        return sum(1 for name, _ in self.broker.calls if name == "submit")

    def statuses(self) -> list[OrderStatus]:
        return [o.status for o in self.orders()]


def make_world(**trading: object) -> World:
    clock = FakeClock(NOW)
    broker = FakeBroker(clock)
    uow = FakeUnitOfWork()
    locks = FakeLeaseLock(clock)
    notifier = FakeNotifier()
    ctx = ServiceContext(
        uow=uow,
        broker=broker,
        locks=locks,
        clock=clock,
        calendar=FakeCalendar(),
        notifier=notifier,
        policy=LedgerPolicy(fees=FeeSchedule()),
        trading=TradingPolicy(**trading),
        actor="test",  # type: ignore[arg-type]
    )
    world = World(ctx, clock, broker, uow, locks, notifier)
    world.set_market(MarketState.TRADING)
    broker.set_quote("005930", 71_500)
    broker.set_book("005930", asks=[(71_600, 100)], bids=[(71_500, 100)])
    return world


@pytest.fixture
def world() -> World:
    return make_world()
