"""Redis restarted mid-day without persistence, leases on Redis (issue 12, item 7).

A real ``redis-server`` of the test's own (``--save "" --appendonly no``) is restarted, so
every lease and fence counter is lost, while the ledger on PostgreSQL or SQLite keeps the
fences it was written with. Built through the composition root, as a worker builds it:
the next fences are above everything the database holds and above every fence handed out
before the loss (a holder still in flight included), fenced writes succeed, and no two
holders of one key ever get the same fence.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, union_all

from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.db.models import OrderRow, SymbolStateRow, TransitionRow
from stock_manager.bootstrap import Container
from stock_manager.config import load_settings
from stock_manager.domain.errors import StaleWrite
from stock_manager.domain.orders import (
    Order,
    OrderPurpose,
    OrderStatus,
    OrderType,
    Side,
    idempotency_key,
)
from stock_manager.domain.trade import SymbolTrade
from stock_manager.ports import Lease
from tests.integration.own_redis import OwnRedis

SYMBOL, OTHER, NEW = "005930", "000660", "035720"
DAY = date(2030, 1, 2)  # any day: the ledger rows only need one


class Ledger:
    """The container's lease lock and database, and every fence it handed out, per key."""

    def __init__(self, redis_url: str, db_url: str) -> None:
        settings = load_settings(redis_url=redis_url, database_url=db_url, lock_backend="redis")
        self.container = Container(settings)
        self.locks = self.container.lease_lock
        self.issued: dict[str, list[int]] = defaultdict(list)
        self._guard = threading.Lock()
        self.errors: list[BaseException] = []

    def acquire(self, key: str, owner: str = "worker", ttl: float = 60.0) -> Lease:
        lease = self.locks.acquire(key, owner, ttl)
        assert lease is not None, f"{key} is held"
        with self._guard:
            self.issued[key].append(lease.fence)
        return lease

    def churn(self, key: str, times: int) -> None:
        """Leases taken and released without a write (a price check that found nothing)."""
        for _ in range(times):
            self.locks.release(self.acquire(key))

    def write_symbol(self, symbol: str, fence: int, note: str) -> None:
        with self.container.uow() as uow:
            trade = uow.symbols.get(symbol) or SymbolTrade(symbol)
            uow.symbols.save(trade, replace(trade, note=note, fence=fence))
            uow.commit()

    def add_order(self, symbol: str, fence: int) -> int:
        with self.container.uow() as uow:
            order = uow.orders.add(
                Order(
                    idempotency_key(DAY, symbol, Side.BUY, 1, 0),
                    DAY,
                    symbol,
                    Side.BUY,
                    OrderType.LIMIT,
                    1,
                    70_000,
                    OrderPurpose.ENTRY,
                    fence=fence,
                )
            )
            uow.commit()
        assert order.id is not None
        return order.id

    def move_order(self, order_id: int, status: OrderStatus, fence: int) -> None:
        with self.container.uow() as uow:
            before = uow.orders.get(order_id)
            assert before is not None
            uow.orders.save(before, replace(before, status=status, fence=fence))
            uow.commit()

    def race(self, owner: str, start: threading.Barrier, keys: tuple[str, ...]) -> None:
        """A thread's body: at the barrier, grab each key 15 times; errors are kept."""
        try:
            start.wait(30)
            for _ in range(15):
                for key in keys:
                    mine = self.locks.acquire(key, owner, 5.0)
                    if mine is not None:
                        self.locks.release(mine)
                        with self._guard:
                            self.issued[key].append(mine.fence)
        except BaseException as exc:  # the test asserts there were none
            self.errors.append(exc)

    def database_fence(self, engine: Engine) -> int:
        fences = union_all(
            select(func.max(SymbolStateRow.fence)),
            select(func.max(OrderRow.fence)),
            select(func.max(TransitionRow.fence)),
        ).subquery()
        with engine.connect() as conn:
            return int(conn.execute(select(func.max(fences.c[0]))).scalar() or 0)

    def assert_no_fence_twice(self) -> None:
        for key, fences in self.issued.items():
            assert len(fences) == len(set(fences)), f"{key}: a fence was handed out twice"


def morning(ledger: Ledger) -> int:
    """A morning of trading: leases taken and released, fenced writes to a symbol and an
    order. Returns the order's id."""
    ledger.write_symbol(SYMBOL, 0, "created")
    order_id = 0
    for round_ in range(4):
        ledger.churn(SYMBOL, 10)
        lease = ledger.acquire(SYMBOL)
        ledger.write_symbol(SYMBOL, lease.fence, f"mark {round_}")
        if round_ == 1:
            order_id = ledger.add_order(SYMBOL, lease.fence)
        if round_ == 2:
            ledger.move_order(order_id, OrderStatus.SUBMITTED, lease.fence)
        ledger.locks.release(lease)
    ledger.churn(OTHER, 5)
    ledger.acquire("__liquidation__", ttl=600)  # a round lease, never released
    return order_id


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_fences_continue_above_the_database_after_redis_loses_everything(
    own_redis: OwnRedis, db: str, request: pytest.FixtureRequest
) -> None:
    db_url = str(request.getfixturevalue(f"{db}_url"))
    upgrade(db_url)
    ledger = Ledger(own_redis.url, db_url)
    engine = ledger.container.engine
    order_id = morning(ledger)
    in_flight = ledger.acquire(SYMBOL, "paused-holder")  # granted, not yet written with
    before_loss = {key: max(fences) for key, fences in ledger.issued.items()}
    written = ledger.database_fence(engine)
    assert 0 < written < in_flight.fence

    own_redis.restart()  # no RDB, no AOF: every lease and counter is gone

    lease = ledger.acquire(SYMBOL, "new-holder")
    assert lease.fence > written, "the new fence is not above the database's"
    assert lease.fence > before_loss[SYMBOL], "a fence handed out before the loss came again"
    ledger.write_symbol(SYMBOL, lease.fence, "after the restart")  # no StaleWrite
    ledger.move_order(order_id, OrderStatus.CANCELED, lease.fence)
    with pytest.raises(StaleWrite):  # the holder from before the loss is fenced off
        ledger.write_symbol(SYMBOL, in_flight.fence, "stale holder")
    assert ledger.locks.renew(in_flight, 60) is None
    ledger.locks.release(lease)

    for key in (OTHER, NEW, "__liquidation__"):
        fresh = ledger.acquire(key, ttl=1.0)
        assert fresh.fence > before_loss.get(key, 0)
        assert fresh.fence > written
        ledger.locks.release(fresh)
    later = ledger.acquire(SYMBOL)
    assert later.fence > lease.fence, "fences go on increasing after the re-seeding"
    ledger.write_symbol(SYMBOL, later.fence, "later")
    ledger.locks.release(later)

    own_redis.restart()  # twice in one day
    again = ledger.acquire(SYMBOL)
    assert again.fence > max(ledger.issued[SYMBOL][:-1])
    ledger.write_symbol(SYMBOL, again.fence, "after the second restart")
    ledger.assert_no_fence_twice()
    with ledger.container.uow() as uow:
        trade = uow.symbols.get(SYMBOL)
        order = uow.orders.get(order_id)
    assert trade is not None and trade.note == "after the second restart"
    assert order is not None and order.status is OrderStatus.CANCELED
    ledger.container.dispose()


def test_workers_racing_to_reseed_never_share_a_fence(
    own_redis: OwnRedis, postgres_url: str
) -> None:
    """Six workers (own connections, own engines) all find the counters gone at once."""
    upgrade(postgres_url)
    ledgers = [Ledger(own_redis.url, postgres_url) for _ in range(6)]
    first = ledgers[0]
    first.write_symbol(SYMBOL, 0, "created")
    first.churn(SYMBOL, 20)
    lease = first.acquire(SYMBOL)
    first.write_symbol(SYMBOL, lease.fence, "before")
    first.locks.release(lease)
    own_redis.restart()

    start = threading.Barrier(len(ledgers))
    threads = [
        threading.Thread(target=ledger.race, args=(f"racer-{n}", start, (SYMBOL, NEW, f"{n:06d}")))
        for n, ledger in enumerate(ledgers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for ledger in ledgers:
        assert not ledger.errors, ledger.errors
    for ledger in ledgers[1:]:
        for key, fences in ledger.issued.items():
            first.issued[key].extend(fences)
    first.assert_no_fence_twice()
    after = first.issued[SYMBOL][21:]
    assert after and min(after) > max(first.issued[SYMBOL][:21])
    last = first.acquire(SYMBOL)
    first.write_symbol(SYMBOL, last.fence, "after the race")
    for ledger in ledgers:
        ledger.container.dispose()
