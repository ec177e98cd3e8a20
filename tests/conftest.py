"""Shared fixtures: real PostgreSQL and Redis when reachable, SQLite always.

Servers are found through ``TEST_POSTGRES_URL`` and ``TEST_REDIS_URL`` (defaults: the local
services). Without a server a test skips with the reason; under CI (``CI=true``) it fails
instead, so CI always runs the integration tests for real.

The run's clock (time-machine: ``time.time``, ``datetime.now``, ``date.today``) may be ahead
of the wall clock: ``TEST_CLOCK_SHIFT_DAYS=N`` days ahead so a test that depends on today's
date fails today (CI runs the unit suite a year ahead), and a few hours ahead when the run
starts near KST midnight; see ``tests/clock_shift.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from stock_manager.adapters.db.engine import make_engine, normalize_url
from tests.clock_shift import SHIFT_ENV, pythonpath, session_shift

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session", autouse=True)
def _shifted_clock() -> Iterator[None]:
    """The whole run, and every process it starts, ahead of the wall clock by
    ``tests.clock_shift.session_shift()`` (the clock keeps ticking)."""
    shift = session_shift()
    if not shift:
        yield
        return
    import time_machine

    os.environ[SHIFT_ENV] = str(shift.total_seconds())
    os.environ["PYTHONPATH"] = pythonpath(*filter(None, [os.environ.get("PYTHONPATH")]))
    with time_machine.travel(datetime.now(UTC) + shift, tick=True):
        yield


def unavailable(what: str, error: Exception) -> None:
    """Skip (or, under CI, fail) a test whose server is not there."""
    reason = f"{what} not reachable: {type(error).__name__}: {error}"
    if IN_CI:
        pytest.fail(f"{reason} (CI=true requires it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = normalize_url(POSTGRES_URL)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network error means "not available"
        unavailable(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)}", exc)
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"sm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head with Alembic."""
    from stock_manager.adapters.db.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        unavailable(f"Redis at {REDIS_URL}", exc)
    return REDIS_URL


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    return redis_server_url


@pytest.fixture
def redis_namespace(redis_server_url: str) -> Iterator[str]:
    """A unique key prefix for one test; its keys are deleted afterwards.

    Tests share one Redis server (and run concurrently on a developer machine), so they
    never flush a database: every key a test writes lives under its namespace.
    """
    import redis

    namespace = f"smtest:{uuid.uuid4().hex[:10]}:"
    yield namespace
    client = redis.Redis.from_url(redis_server_url)
    keys = list(client.scan_iter(match=namespace + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own data directory and freshly loaded settings."""
    from stock_manager import bootstrap
    from stock_manager.config import get_settings

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the tests
    get_settings.cache_clear()
    bootstrap.use(None)
    yield
    bootstrap.use(None)
    get_settings.cache_clear()
    _stop_embedded_redis(tmp_path)


def _stop_embedded_redis(tmp_path: Path) -> None:
    """Stop every embedded Redis a test started under its folder (else each lingers ~10 s)."""
    from stock_manager.adapters.embedded_redis import EmbeddedRedis

    for pid_file in tmp_path.glob("**/redis/supervisor.pid"):
        EmbeddedRedis(pid_file.parent).stop(timeout=15)
