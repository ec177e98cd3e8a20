"""Every documented command works on PostgreSQL + Redis (issue 14), as docker-compose.yml
runs them, through a compressed day against the simulator that ends flat; and the day
survives what production throws at it:

* docker-compose.yml's services (migrate, two workers, the liquidation worker, two beats,
  the stream, metrics, Flower, the simulator) run as processes with their own environment
  (``compose_stack.py`` maps the host names to loopback) and their healthchecks pass;
* the beat leader is SIGKILLed mid-day: the standby takes over, nothing is sent twice, and
  the killed one is started again (compose's restart) and stands by;
* Redis (AOF) and PostgreSQL are restarted under all of them: no worker, beat or stream
  exits, and the day still ends flat, the ledger equal to the simulator's orders;
* the CLI works against it: ``config check --connect``, ``status``, ``report``,
  ``celery inspect ping``; Flower without ``FLOWER_BASIC_AUTH`` refuses with one line.

The servers are the test's own (restarting the shared ones is not allowed). The only
settings beyond compose's are those a three-minute day needs (:data:`TEST_DAY`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from stock_manager.bootstrap import Container
from stock_manager.config import load_settings
from stock_manager.demo.verify import verify
from stock_manager.domain.clock import KST
from tests.e2e.compose_stack import Replica, Stack
from tests.servers import PostgresServer, RedisServer, free_port, wait_until

DAY_MINUTES = 3
OPENS_IN = 75  # seconds from the simulator's start: time for every process to come up
LONG_RUNNING = ("worker", "liquidation-worker", "beat", "stream", "metrics", "flower")
# What a three-minute day needs beyond compose's settings (each one a real setting).
TEST_DAY = {
    "SCAN_INTERVAL": "4",
    "ORDER_SYNC_INTERVAL": "2",
    "LOCK_SWEEP_INTERVAL": "10",
    "RECONCILE_INTERVAL": "15",
    "BEAT_LOCK_TIMEOUT": "10",
    "KIS_RATE_LIMIT": "15",
    "WORKER_CONCURRENCY": "1",
    "STRATEGIES": "momentum_breakout,bollinger_reversion",
    "MOMENTUM_LOOKBACK": "10",
    "MOMENTUM_VOLUME_FACTOR": "1.2",
    "BOLLINGER_PERIOD": "15",
    "BOLLINGER_WIDTH": "1.8",
    "STOP_LOSS_PCT": "1.0",
    "TAKE_PROFIT_PCT": "1.5",
    "TRAILING_STOP_PCT": "0.7",
    "MAX_HOLDING_MINUTES": "1",
    "MAX_POSITIONS": "4",
    "MAX_NOTIONAL_PER_SYMBOL": "1500000",
    "MAX_TOTAL_NOTIONAL": "6000000",
    "LIQUIDATION_ESCALATE_SECONDS": "5",
    "LIQUIDATION_ROUND_SECONDS": "2",
}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[PostgresServer, RedisServer]]:
    pg = PostgresServer.in_temp().start()
    cache = RedisServer(tmp_path / "redis").start()
    try:
        engine = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # compose's POSTGRES_USER/PASSWORD/DB
            conn.execute(text("CREATE ROLE stock LOGIN SUPERUSER PASSWORD 'stock'"))
            conn.execute(text("CREATE DATABASE stock OWNER stock"))
        engine.dispose()
        yield pg, cache
    finally:
        cache.stop()
        pg.remove()


def _sim_session_args() -> list[str]:
    opens = datetime.now(KST) + timedelta(seconds=OPENS_IN)
    closes = opens + timedelta(minutes=DAY_MINUTES)
    return [
        *("--open", opens.strftime("%H:%M:%S"), "--close", closes.strftime("%H:%M:%S")),
        *("--auction-seconds", "8", "--symbols", "20", "--seed", "11"),
        *("--candle-seconds", "4.5", "--tick-interval", "0.25", "--history-candles", "60"),
        *("--rate-limit", "20"),
    ]


def _cli(stack: Stack, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A documented command, run as in `docker compose exec worker ...`."""
    replica = stack.of("worker")[0]
    return subprocess.run(
        [sys.executable, "-m", *args],
        env=replica.env,
        cwd=replica.folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _dead(stack: Stack, allowed: set[str]) -> list[str]:
    return [
        f"{r.name}: {r.text()[-1500:]}"
        for r in stack.replicas
        if r.service in LONG_RUNNING and not r.alive and r.name not in allowed
    ]


def _healthy(stack: Stack) -> None:
    for replica in stack.replicas:
        if replica.service in LONG_RUNNING and replica.alive:
            result = stack.healthcheck(replica)
            assert result.returncode == 0, (replica.name, result.stdout, result.stderr)


def _kill_beat_leader(stack: Stack, redis_url: str) -> Replica:
    holder = redis.Redis.from_url(redis_url).get("sm:beat:leader")
    assert holder, "no beat leads"
    pid = int(holder.decode().split(":")[1])
    (leader,) = [r for r in stack.of("beat") if r.process and r.process.pid == pid]
    os.kill(pid, signal.SIGKILL)
    return leader


@pytest.mark.timeout(900)
def test_compose_commands_trade_a_day_to_flat_through_failover_and_restarts(
    tmp_path: Path, servers: tuple[PostgresServer, RedisServer]
) -> None:
    pg, cache = servers
    sim_rest, sim_ws = free_port(), free_port()
    stack = Stack(
        tmp_path / "containers",
        dotenv={"FLOWER_BASIC_AUTH": "admin:compose-test"},
        hosts={
            "postgres:5432": f"127.0.0.1:{pg.port}",
            "redis:6379": f"127.0.0.1:{cache.port}",
            "kis-sim:18080": f"127.0.0.1:{sim_rest}",
            "kis-sim:18081": f"127.0.0.1:{sim_ws}",
        },
        overrides=TEST_DAY,
    )
    stack.ports.update({"18080": str(sim_rest), "18081": str(sim_ws)})
    killed: set[str] = set()
    try:
        sim = stack.start("kis-sim", *_sim_session_args())
        rest = f"http://127.0.0.1:{sim_rest}"
        wait_until(lambda: _answers(rest), 90, "the simulator")
        assert stack.run_once("migrate").returncode == 0, stack.of("migrate")[0].text()
        for service in LONG_RUNNING:
            stack.start_all(service)
        clock = httpx.get(f"{rest}/_sim/clock", timeout=5).json()["session"]
        opens = datetime.fromisoformat(clock["opens_at"])
        auction_ends = datetime.fromisoformat(clock["auction_ends_at"])
        wait_until(lambda: _all_ready(stack), 240, "every service to start")
        _healthy(stack)

        refused = _flower_without_auth(stack)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().count("\n") == 0 and "FLOWER_BASIC_AUTH" in refused.stderr

        check = _cli(stack, "stock_manager", "config", "check", "--connect", "--json")
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]

        _sleep_until(opens + timedelta(seconds=20))
        leader = _kill_beat_leader(stack, cache.url)
        killed.add(leader.name)
        handed_over = time.monotonic()
        wait_until(lambda: _a_beat_leads(stack, cache.url, leader), 30, "a new beat leader")
        handover = time.monotonic() - handed_over
        stack.start("beat", index=leader.index)  # compose's restart policy
        killed.discard(leader.name)

        _sleep_until(opens + timedelta(seconds=50))
        cache.restart(down=3)
        _sleep_until(opens + timedelta(seconds=85))
        pg.restart(down=3)
        time.sleep(10)
        assert _dead(stack, killed) == []

        _sleep_until(auction_ends + timedelta(seconds=5))
        settings = load_settings(
            database_url=pg.url("stock"), redis_url=cache.url, kis_sim_rest_url=rest
        )
        container = Container(settings)
        wait_until(lambda: _ledger_settled(container), 60, "the ledger to settle")
        state = httpx.get(f"{rest}/_sim/state", timeout=10).json()
        day = opens.astimezone(KST).date()
        verdict = verify(container.uow(), day, state)
        assert verdict.problems == [], verdict.problems
        assert verdict.flat and verdict.ledger_matches
        assert verdict.figures["orders"] >= 2, "the day traded nothing"

        assert _dead(stack, killed) == []
        _healthy(stack)  # everything survived, and says so
        status = _cli(stack, "stock_manager", "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["market"] == "CLOSED"
        report = _cli(stack, "stock_manager", "report", "--json")
        assert report.returncode == 0, report.stderr
        assert json.loads(report.stdout)["report"]["settlement"] is not None
        ping = _cli(stack, "celery", "-A", "stock_manager", "inspect", "ping", "--timeout", "10")
        assert ping.returncode == 0 and "worker@worker-1" in ping.stdout
        for replica in stack.replicas:
            assert "Unrecoverable error" not in replica.text(), replica.name
        print(f"beat hand-over {handover:.1f}s after SIGKILL; {verdict.figures}")
        container.dispose()
        assert sim.alive
    finally:
        stack.stop()


def _answers(rest: str) -> bool:
    try:
        return httpx.get(f"{rest}/_sim/clock", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _all_ready(stack: Stack) -> bool:
    dead = _dead(stack, set())
    assert dead == [], dead
    workers = [r for r in stack.replicas if r.service in ("worker", "liquidation-worker")]
    beats = stack.of("beat")
    return (
        all(" ready." in r.text() for r in workers)
        and all("leading the schedule" in b.text() or "standing by" in b.text() for b in beats)
        and all("streaming from" in r.text() for r in stack.of("stream"))
        and all("metrics on http" in r.text() for r in stack.of("metrics"))
        and all("Visit me at" in r.text() for r in stack.of("flower"))
    )


def _a_beat_leads(stack: Stack, url: str, dead: Replica) -> bool:
    holder = redis.Redis.from_url(url).get("sm:beat:leader")
    if not holder:
        return False
    pid = int(holder.decode().split(":")[1])
    return dead.process is not None and pid != dead.process.pid


def _ledger_settled(container: Container) -> bool:
    from stock_manager.services.sync import UNSETTLED

    with container.uow() as uow:
        return not uow.orders.find(statuses=UNSETTLED)


def _flower_without_auth(stack: Stack) -> subprocess.CompletedProcess[str]:
    """Flower as compose starts it (every interface), but without FLOWER_BASIC_AUTH."""
    replica = stack.of("flower")[0]
    env = {k: v for k, v in replica.env.items() if k != "FLOWER_BASIC_AUTH"}
    command = [w.replace("127.0.0.1", "0.0.0.0") for w in replica.command]  # refused first
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _sleep_until(moment: datetime) -> None:
    time.sleep(max((moment - datetime.now(KST)).total_seconds(), 0))
