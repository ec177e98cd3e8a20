"""A real Celery worker (in-process, solo pool) runs scheduled tasks end to end on the DB."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.domain.records import RecoveryKind


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def worker(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[bootstrap.Container]:
    from celery.contrib.testing.worker import start_worker

    from stock_manager.celery_app import app
    from stock_manager.sim import SimConfig, SimServer

    now = datetime.now(KST)
    sim = SimServer(SimConfig(rest_port=0, ws_port=0, symbols=5, session_minutes=30))
    sim.start()
    monkeypatch.setenv("KIS_REST_URL", sim.rest_url)
    monkeypatch.setenv("KIS_WS_URL", sim.ws_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SESSION_OPEN", (now - timedelta(minutes=1)).strftime("%H:%M:%S"))
    monkeypatch.setenv("SESSION_CLOSE", (now + timedelta(minutes=30)).strftime("%H:%M:%S"))
    upgrade(sqlite_url)
    saved = dict(app.conf)
    app.conf.update(broker_url="memory://", broker_transport_options={})
    app.loader.import_default_modules()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield bootstrap.container()
    sim.stop()
    app.conf.update(
        broker_url=saved["broker_url"], broker_transport_options=saved["broker_transport_options"]
    )


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
