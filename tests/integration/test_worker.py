"""A real Celery worker (in-process, solo pool) runs scheduled tasks end to end on the DB."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from stock_manager import bootstrap
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.domain.records import RecoveryKind
from tests.integration.conftest import wait_for


@pytest.fixture
def worker(sim_worker: tuple[bootstrap.Container, str]) -> bootstrap.Container:
    return sim_worker[0]


def test_open_session_initializes_the_day_and_records_the_market_state(
    worker: bootstrap.Container,
) -> None:
    from tasks.market import open_session

    open_session.delay()

    def trading() -> bool:
        with worker.uow() as uow:
            return uow.market.get(datetime.now(KST).date()) is MarketState.TRADING

    wait_for(trading)
    with worker.uow() as uow:
        steps = [(t.from_state, t.to_state) for t in reversed(uow.audit.recent())]
    assert steps == [("OFFLINE", "INITIALIZING"), ("INITIALIZING", "READY"), ("READY", "TRADING")]
    with worker.uow() as uow:  # initialization read the broker's balance
        assert uow.market.opening_cash(datetime.now(KST).date()) == 10_000_000


def test_sweep_releases_an_expired_lease(worker: bootstrap.Container) -> None:
    from tasks.locks import sweep_locks

    locks = SqlLeaseLock(worker.engine)
    assert locks.acquire("005930", "crashed-worker", ttl=0.01)
    time.sleep(0.05)
    sweep_locks.delay()

    def recorded() -> bool:
        with worker.uow() as uow:
            return any(e.kind is RecoveryKind.EXPIRED_LEASE for e in uow.recovery.recent())

    wait_for(recorded)
    assert locks.held() == []
    with worker.uow() as uow:
        (entry,) = uow.recovery.recent()
    assert entry.symbol == "005930" and entry.detail["owner"] == "crashed-worker"
