"""Integration fixtures: a real Celery worker in this process, over a simulator."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.domain.clock import KST
from tests.integration.own_redis import own_redis  # noqa: F401 - a fixture for every test


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def sim_worker(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[bootstrap.Container, str]]:
    """A solo-pool worker on the memory broker, SQLite with SQL leases, and a simulator whose
    session (and ours) opened a minute ago. Yields the container and the simulator's URL."""
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
    monkeypatch.setenv("LIQUIDATION_ROUND_SECONDS", "0.5")
    monkeypatch.setenv("LOCK_BACKEND", "sql")  # SQL leases and a file limiter: no Redis here
    upgrade(sqlite_url)
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options")}
    app.conf.update(broker_url="memory://", broker_transport_options={})
    app.loader.import_default_modules()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield bootstrap.container(), sim.rest_url
    finally:
        sim.stop()
        app.conf.update(saved)
