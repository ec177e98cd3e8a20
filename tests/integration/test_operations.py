"""Flower and our metrics, as processes: what an operator's dashboards would see."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from stock_manager.adapters.db.engine import make_engine, make_session_factory
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.adapters.embedded_redis import EmbeddedRedis
from stock_manager.adapters.locks.redis import RedisLeaseLock
from tests.integration.conftest import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "FLOWER_", "LOCK_"))
    }
    env.update(
        {
            "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "PYTHONUNBUFFERED": "1",
            "KIS_REST_URL": "http://127.0.0.1:9",
            "KIS_TIMEOUT": "1",
        }
    )
    return env


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, []  # type: ignore[var-annotated]

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue


@pytest.fixture
def processes(embedded_env: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    group = Processes(embedded_env, tmp_path)
    yield group
    group.stop()


@pytest.mark.slow
def test_flower_shows_our_worker_and_tasks(processes: Processes, tmp_path: Path) -> None:
    port = free_port()
    processes.env["FLOWER_BASIC_AUTH"] = "admin:change-me"
    celery = ["-m", "celery", "-A", "stock_manager"]
    processes.start(
        "worker",
        *celery,
        "worker",
        "-l",
        "info",
        "-c",
        "1",
        "-n",
        "ops@%h",
        "--without-mingle",
        "--without-gossip",
    )
    processes.start("flower", *celery, "flower", f"--port={port}", "--address=127.0.0.1")
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=("admin", "change-me"))

    def workers() -> dict:  # type: ignore[type-arg]
        try:
            return api.get("/api/workers", params={"refresh": "true"}, timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return {}

    wait_for(lambda: any(name.startswith("ops@") for name in workers()), timeout=60)
    assert httpx.get(f"http://127.0.0.1:{port}/api/workers", timeout=5).status_code == 401
    called = subprocess.run(
        [sys.executable, *celery, "call", "tasks.market.halt", "--args", '["from flower test"]'],
        env=processes.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    task_id = called.stdout.strip().splitlines()[-1]

    def task_state() -> str:
        try:
            return str(api.get(f"/api/task/info/{task_id}", timeout=5).json().get("state"))
        except (httpx.HTTPError, ValueError):
            return ""

    wait_for(lambda: task_state() == "SUCCESS", timeout=60)
    tasks = api.get("/api/tasks", timeout=5).json()
    assert tasks[task_id]["name"] == "tasks.market.halt"
    assert tasks[task_id]["worker"].startswith("ops@")


def test_our_metrics_endpoint_carries_every_series(
    processes: Processes, embedded_env: dict[str, str]
) -> None:
    database = Path(embedded_env["XDG_DATA_HOME"]) / "stock-manager" / "stock_manager.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    uow = SqlUnitOfWork(make_session_factory(engine))
    with uow:
        uow.task_runs.succeeded("tasks.prices.check_prices", datetime.now(UTC), 2)
        uow.task_runs.succeeded("tasks.reconcile.reconcile_positions", datetime.now(UTC), 3)
        uow.task_runs.failed("tasks.scan.scan_candidates", datetime.now(UTC))
        uow.commit()
    # a lease held in the default backend: the embedded Redis of the processes' DATA_DIR
    embedded = EmbeddedRedis.for_data_dir(database.parent)
    assert RedisLeaseLock(embedded.client()).acquire("005930", "someone", ttl=60)
    from stock_manager.sim import SimConfig, SimServer

    sim = SimServer(SimConfig(rest_port=0, ws_port=0, symbols=3))
    sim.start()
    processes.env.update(KIS_REST_URL=sim.rest_url, KIS_WS_URL=sim.ws_url)
    subprocess.run(
        [sys.executable, "-m", "stock_manager", "kis", "check"],
        env=processes.env,
        capture_output=True,
        timeout=60,
        check=True,
    )  # a token is issued and shared
    port = free_port()
    processes.start("metrics", "-m", "stock_manager", "metrics", "--port", str(port))

    def scrape() -> str:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return ""

    wait_for(lambda: "stock_manager_queue_depth" in scrape(), timeout=30)
    text = scrape()
    for series in (
        'stock_manager_queue_depth{queue="trading"}',
        'stock_manager_queue_depth{queue="liquidation"}',
        "stock_manager_leases_held 1.0",
        "stock_manager_reconciliation_differences 3.0",
        'stock_manager_task_last_success_age_seconds{task="tasks.prices.check_prices"}',
        'stock_manager_task_failures_total{task="tasks.scan.scan_candidates"} 1.0',
        'stock_manager_market_state{state="OFFLINE"} 1.0',
        "stock_manager_rate_limit_headroom_seconds",
        "stock_manager_rate_limit_waiters 0.0",
        "stock_manager_kis_token_age_seconds",
    ):
        assert series in text, series
    engine.dispose()
    sim.stop()


@pytest.mark.slow
def test_the_embedded_default_runs_worker_and_beat_and_answers_ping(
    processes: Processes, embedded_env: dict[str, str]
) -> None:
    """With no settings at all: SQLite is created and migrated, the embedded Redis serves
    the broker across processes, beat sends its schedule, and ``inspect ping`` gets an answer."""
    data = Path(embedded_env["XDG_DATA_HOME"]) / "stock-manager"
    assert not data.exists()
    processes.start(
        "worker", "-m", "celery", "-A", "stock_manager", "worker", "-B", "-l", "info", "-c", "1"
    )

    def ping() -> bool:
        result = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "stock_manager", "inspect", "ping", "-t", "3"],
            env=processes.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return "pong" in result.stdout

    wait_for(ping, timeout=90)
    assert (data / "stock_manager.db").exists()
    uow = SqlUnitOfWork(make_session_factory(make_engine(f"sqlite:///{data / 'stock_manager.db'}")))

    def beat_ran_price_checks() -> bool:
        with uow:
            run = uow.task_runs.get("tasks.prices.check_prices")
        return run is not None and run.successes >= 2

    wait_for(beat_ran_price_checks, timeout=60)
