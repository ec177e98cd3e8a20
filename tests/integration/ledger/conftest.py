"""The ``stack`` fixture: simulator + database + leases, configured through the environment.

``backend`` picks PostgreSQL with Redis leases (the default, as the issue asks) or SQLite
with SQL leases; a module can parametrize it. ``stack_settings`` lets a module add settings
(environment variable names, string values) on top of the fast defaults below.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.embedded_redis import EmbeddedRedis
from stock_manager.config import get_settings
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.ports import PendingTasks
from stock_manager.services import market
from stock_manager.sim import SimConfig, SimServer
from tests.clock_shift import pythonpath
from tests.fakes.ports import FakeNotifier
from tests.integration.ledger.stack import LEASE_NAMESPACE_ENV, LedgerContainer, Stack

REPO = Path(__file__).resolve().parents[3]
SIM: dict[str, Any] = {
    "rest_port": 0,
    "ws_port": 0,
    "symbols": 10,
    "session_minutes": 30.0,
    "rate_limit": 0.0,
    "token_issue_interval": 1.0,
}
# A read this long after an ambiguous send proves absence; the sweep calls a worker gone after
# this long without a heartbeat (3 s / 60 s in production).
UNKNOWN_PROPAGATION = timedelta(seconds=1)
STALE_WORKER_AFTER = timedelta(seconds=1)


# These tests are about the ledger, not the caps: orders of 200,000 shares, dozens a minute.
# Every entry is still admitted (services/admission.py); a module sets its own caps in
# ``stack_settings`` (tests/e2e/test_admission_caps.py).
OUT_OF_THE_WAY = {
    "MAX_POSITIONS": "1000",
    "MAX_NOTIONAL_PER_SYMBOL": str(10**13),
    "MAX_TOTAL_NOTIONAL": str(10**14),
    "MAX_ORDERS_PER_MINUTE": "100000",
    "MAX_DAILY_LOSS": str(10**13),
}


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def sim_settings() -> dict[str, Any]:
    """``SimConfig`` values a module wants on top of ``SIM`` (a dialect, a rate limit)."""
    return {}


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {}


@pytest.fixture
def stack(
    backend: str,
    stack_settings: dict[str, str],
    sim_settings: dict[str, Any],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Stack]:
    if backend == "postgres":
        database = str(request.getfixturevalue("postgres_url"))
        redis_url = str(request.getfixturevalue("redis_url"))
        namespace = str(request.getfixturevalue("redis_namespace"))
        backend_env = {
            "REDIS_URL": redis_url,
            "LOCK_BACKEND": "redis",
            "KIS_REDIS_NAMESPACE": namespace + "kis:",
            LEASE_NAMESPACE_ENV: namespace,
        }
    else:
        database = str(request.getfixturevalue("sqlite_url"))
        namespace = ""
        backend_env = {"LOCK_BACKEND": "sql"}
    sim = SimServer(SimConfig(**{**SIM, **sim_settings})).start()
    data_dir = tmp_path / "xdg" / "stock-manager"  # DATA_DIR's default under XDG_DATA_HOME
    now = datetime.now(KST)
    env = {
        "DATABASE_URL": database,
        **backend_env,
        # this test's own embedded server, never the shared Redis's queues
        "CELERY_BROKER_URL": EmbeddedRedis.for_data_dir(data_dir).broker_url,
        "KIS_ENV": "sim",
        "KIS_REST_URL": sim.rest_url,
        "KIS_WS_URL": sim.ws_url,
        "KIS_TIMEOUT": "1",
        "KIS_RATE_LIMIT": "50",
        # No stream runs here, so no execution notice ever comes: sync every order at once.
        "ORDER_SYNC_NOTICE_GRACE": "0",
        "SESSION_OPEN": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
        "SESSION_CLOSE": (now + timedelta(minutes=30)).strftime("%H:%M:%S"),
        "XDG_DATA_HOME": str(data_dir.parent),
        "PYTHONPATH": pythonpath(str(REPO)),
        **OUT_OF_THE_WAY,
        **stack_settings,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    upgrade(database)
    container = LedgerContainer(get_settings(), namespace)
    bootstrap.use(container)  # what the tasks' ``container()`` returns
    notifier = FakeNotifier()
    base = container.context()
    ctx = replace(
        base,
        notifier=notifier,
        tasks=PendingTasks(),  # follow-ups are kept for the test to see, not sent anywhere
        policy=replace(
            base.policy,
            unknown_propagation=UNKNOWN_PROPAGATION,
            stale_worker_after=STALE_WORKER_AFTER,
        ),
    )
    assert market.advance(ctx.uow, ctx.calendar, ctx.clock).state is MarketState.TRADING
    try:
        yield Stack(sim, {**os.environ, **env}, container, ctx, notifier)
    finally:
        bootstrap.use(None)
        sim.stop()
