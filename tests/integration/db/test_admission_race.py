"""Many workers admitting entries at the same moment never exceed a cap (issue 13, item 1).

Each thread is a worker of its own: its own database connection, the real SQL ledger and SQL
leases, one symbol each, all released at once by a barrier. The broker answers slowly (as
KIS does), so every worker has read the market before any has written: a check made before
the intent is written lets them all through. Admission locks the day's row instead
(PostgreSQL ``FOR UPDATE``; SQLite's write lock), so the caps hold however they interleave.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine

from stock_manager.adapters.db.engine import make_session_factory
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.risk import Cap, RiskLimits
from stock_manager.services.context import ServiceContext, TradingPolicy
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.orders import Outcome, SendResult
from tests.fakes.broker import FakeBroker
from tests.fakes.ports import FakeCalendar, FakeClock, FakeNotifier

WORKERS = 12
SYMBOLS = [f"{100_000 + i * 10:06d}" for i in range(WORKERS)]
PRICE = 10_000


class SlowBroker(FakeBroker):
    """The fake broker, safe across threads, answering market reads after a pause."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, cash=10**12)
        self.guard = threading.RLock()

    def quote(self, symbol: str) -> Any:
        time.sleep(0.05)
        with self.guard:
            return super().quote(symbol)

    def orderbook(self, symbol: str) -> Any:
        with self.guard:
            return super().orderbook(symbol)

    def buying_power(self, symbol: str, price: int) -> Any:
        with self.guard:
            return super().buying_power(symbol, price)

    def submit(self, request: Any) -> Any:
        with self.guard:
            return super().submit(request)


@pytest.fixture
def ledger(migrated_engine: Engine) -> tuple[SqlUnitOfWork, Engine]:
    return SqlUnitOfWork(make_session_factory(migrated_engine)), migrated_engine


def context(
    engine: Engine, clock: FakeClock, broker: FakeBroker, risk: RiskLimits
) -> ServiceContext:
    return ServiceContext(
        uow=SqlUnitOfWork(make_session_factory(engine)),
        broker=broker,
        locks=SqlLeaseLock(engine),
        clock=clock,
        calendar=FakeCalendar(),
        notifier=FakeNotifier(),
        trading=TradingPolicy(risk=risk),
        actor="race",
    )


def race(
    engine: Engine, risk: RiskLimits, order_type: OrderType
) -> tuple[list[SendResult], SlowBroker]:
    clock = FakeClock()
    broker = SlowBroker(clock)
    for symbol in SYMBOLS:
        broker.set_quote(symbol, PRICE)
        broker.set_book(symbol, asks=[(PRICE, 10_000)], bids=[(PRICE - 10, 10_000)])
    setup = context(engine, clock, broker, risk)
    with setup.uow as uow:
        uow.market.save(clock.now().date(), MarketState.OFFLINE, MarketState.TRADING, "race")
        uow.commit()
    start = threading.Barrier(WORKERS)

    def worker(symbol: str) -> SendResult:
        ctx = context(engine, clock, broker, risk)  # a worker's own connections
        start.wait()
        return enter_checked(ctx, EntryPlan(symbol, 100, PRICE, order_type, "race"))

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(worker, SYMBOLS))
    return results, broker


@pytest.mark.parametrize(
    ("risk", "cap", "admitted"),
    [
        (RiskLimits(max_positions=3), Cap.POSITIONS, 3),
        (
            RiskLimits(max_notional_per_symbol=1_000_000, max_total_notional=2_500_000),
            Cap.TOTAL_NOTIONAL,
            2,
        ),
        (RiskLimits(max_orders_per_minute=4), Cap.ORDER_RATE, 4),
    ],
    ids=["max_positions", "max_total_notional", "max_orders_per_minute"],
)
@pytest.mark.parametrize("order_type", [OrderType.LIMIT, OrderType.MARKET])
def test_simultaneous_entries_never_exceed_a_cap(
    ledger: tuple[SqlUnitOfWork, Engine],
    risk: RiskLimits,
    cap: Cap,
    admitted: int,
    order_type: OrderType,
) -> None:
    uow, engine = ledger
    results, broker = race(engine, risk, order_type)

    sent = [r for r in results if r.outcome is Outcome.SUBMITTED]
    refused = [r for r in results if r.outcome is Outcome.SKIPPED]
    assert len(sent) == admitted, [r.detail for r in results]
    assert len(refused) == WORKERS - admitted
    assert all([x.cap for x in r.refusals] == [cap] for r in refused), [r.detail for r in refused]
    at_broker = [r for r in broker.rows.values() if r.side is Side.BUY]
    assert len(at_broker) == admitted
    assert sum(r.quantity * PRICE for r in at_broker) <= risk.max_total_notional
    with uow:
        orders = uow.orders.find()
    assert len(orders) == admitted
    assert all(o.reserve_price == PRICE for o in orders)
