"""The whole system as processes for a benchmark: the simulator, a Celery worker and
``stock-manager stream`` on Redis (broker, leases, rate limiter, token) and PostgreSQL or
SQLite, each process in its own session so stopping a group leaves nothing behind.

The benchmark process itself reads the same settings (``use_env``) so it can seed and
reconcile through the real services and watch the ledger.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from stock_manager import bootstrap
from stock_manager.adapters.db.engine import normalize_url
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.config import get_settings
from stock_manager.demo.plan import CLEARED
from stock_manager.demo.processes import Child, ProcessGroup

REPO = Path(__file__).resolve().parent.parent


class SystemFailed(RuntimeError):
    pass


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; ``SystemFailed`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemFailed(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def _log_has(child: Child, needle: str) -> bool:
    if not child.alive:
        raise SystemFailed(f"{child.name} exited early; see {child.log}")
    return child.log.exists() and needle in child.log.read_text(errors="replace")


def start_worker(
    group: ProcessGroup,
    name: str,
    node: str,
    concurrency: int,
    *options: str,
    cwd: Path | None = None,
) -> Child:
    """The project's Celery worker as ``group``'s child ``name`` (node name ``node``), also
    running the no-op task (``benchmarks._noop``); ``options`` add to its command line."""
    return group.start(
        name,
        "-m",
        "celery",
        "-A",
        "stock_manager",
        "worker",
        "-l",
        "info",
        "-n",
        node,
        "-c",
        str(concurrency),
        "-I",
        "benchmarks._noop",
        "--without-mingle",
        "--without-gossip",
        *options,
        cwd=cwd,
    )


class TradingSystem:
    """Owns a work folder, the simulator, a database and a Redis db; ``close()`` undoes all."""

    def __init__(
        self,
        *,
        redis_url: str,
        postgres: str | None,
        symbols: int,
        seed: int,
        keep: Path | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.postgres = normalize_url(postgres) if postgres else None
        self.symbols, self.seed = symbols, seed
        self._temp = None if keep else tempfile.TemporaryDirectory(prefix="bench-trading-")
        self.work = keep or Path(self._temp.name if self._temp else ".")
        self.work.mkdir(parents=True, exist_ok=True)
        self.sim_group = ProcessGroup(self.work / "logs", dict(os.environ))
        self.apps: ProcessGroup | None = None
        self.rest = self.ws = ""
        self.db_url = ""
        self._db_name = ""
        self.http = httpx.Client(timeout=10)
        self.redis = redis.Redis.from_url(redis_url)
        self.clock: dict[str, Any] = {}

    # -- set-up -----------------------------------------------------------------------------
    def start(self) -> TradingSystem:
        self.redis.flushdb()  # only our own db number
        sim = self.sim_group.start(
            "sim",
            "-m",
            "stock_manager.sim",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
            "--env",
            "live",
            "--session-minutes",
            "180",
            "--symbols",
            str(self.symbols),
            "--seed",
            str(self.seed),
        )
        urls = wait_for(lambda: self._urls(sim), 15, "the simulator to listen", 0.1)
        self.rest, self.ws = urls["REST"], urls["WS"]
        self.clock = self.admin("clock")
        return self

    @staticmethod
    def _urls(sim: Child) -> dict[str, str] | None:
        if not sim.alive:
            raise SystemFailed(f"the simulator exited; see {sim.log}")
        lines = sim.log.read_text(errors="replace").splitlines() if sim.log.exists() else []
        found = {k: v for k, _, v in (line.partition(" ") for line in lines) if k in ("REST", "WS")}
        return found if len(found) == 2 else None

    def fresh_database(self) -> str:
        """A new empty database at head (dropping the previous one of this run)."""
        self._drop_database()
        if self.postgres:
            self._db_name = f"sm_bench_trading_{uuid.uuid4().hex[:8]}"
            admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self._db_name}"'))
            admin.dispose()
            url = make_url(self.postgres).set(database=self._db_name)
            self.db_url = url.render_as_string(hide_password=False)
        else:
            self._db_name = f"trading-{uuid.uuid4().hex[:8]}.db"
            self.db_url = f"sqlite:///{self.work / self._db_name}"
        upgrade(self.db_url)
        return self.db_url

    def _drop_database(self) -> None:
        if not self._db_name:
            return
        bootstrap.use(None)  # close our own connections first
        if self.postgres:
            admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)'))
            admin.dispose()
        else:
            (self.work / self._db_name).unlink(missing_ok=True)
        self._db_name = ""

    def env(self, **overrides: str) -> dict[str, str]:
        """Settings of every process (and of this one): Redis, the database, the simulator's
        session, a stream that re-reads its symbols every second."""
        session = self.clock["session"]
        opens = datetime.fromisoformat(session["opens_at"]).strftime("%H:%M:%S")
        closes = datetime.fromisoformat(session["continuous_ends_at"]).strftime("%H:%M:%S")
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env.update(
            {
                "DATA_DIR": str(self.work / "data"),
                "DATABASE_URL": self.db_url,
                "REDIS_URL": self.redis_url,
                "LOCK_BACKEND": "redis",
                "AUTO_MIGRATE": "false",
                "LOG_LEVEL": "INFO",
                "KIS_ENV": "sim",
                "KIS_SIM_DIALECT": "live",
                "KIS_REST_URL": self.rest,
                "KIS_WS_URL": self.ws,
                "SESSION_OPEN": opens,
                "SESSION_CLOSE": closes,
                "STREAM_REFRESH_INTERVAL": "1",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
                ),
                "PYTHONUNBUFFERED": "1",
                **overrides,
            }
        )
        return env

    def use_env(self, env: dict[str, str]) -> None:
        """This process reads the same settings as the children from now on."""
        for key in CLEARED:
            os.environ.pop(key, None)
        os.environ.update(env)
        get_settings.cache_clear()
        bootstrap.use(None)

    def start_apps(self, env: dict[str, str], tag: str, concurrency: int = 2) -> None:
        """A Celery worker (all queues, plus the no-op task) and the stream; their logs are
        ``logs/worker-<tag>.log`` and ``logs/stream-<tag>.log``."""
        self.stop_apps()
        data = self.work / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.apps = ProcessGroup(self.work / "logs", env)
        worker = start_worker(
            self.apps, f"worker-{tag}", f"bench-{uuid.uuid4().hex[:6]}@%h", concurrency, cwd=data
        )
        stream = self.apps.start(f"stream-{tag}", "-m", "stock_manager", "stream", cwd=data)
        wait_for(lambda: _log_has(worker, " ready."), 60, "the worker to be ready", 0.1)
        wait_for(lambda: _log_has(stream, "streaming from"), 30, "the stream to start", 0.1)

    def stop_apps(self) -> None:
        if self.apps is not None:
            self.apps.stop()
            self.apps = None

    def cpu_seconds(self, name: str) -> float:
        """CPU time (user + system) so far of child ``name``'s whole process group (a
        worker and its pool processes; reaped children count through their parent)."""
        child = next(c for c in (self.apps.children if self.apps else []) if c.name == name)
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[2]) == child.process.pid:  # process group id
                total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        return total / tick

    def log(self, name: str) -> str:
        path = self.work / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the simulator's admin API ---------------------------------------------------------------
    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.rest}/_sim/{path}"
        reply = self.http.get(url) if body is None else self.http.post(url, json=body)
        if reply.status_code != 200:
            raise SystemFailed(f"/_sim/{path}: HTTP {reply.status_code} {reply.text}")
        return reply.json()

    def close(self) -> None:
        self.stop_apps()
        self.sim_group.stop()
        try:
            self._drop_database()
        finally:
            self.redis.flushdb()
            self.redis.close()
            self.http.close()
            if self._temp is not None:
                self._temp.cleanup()

    def __enter__(self) -> TradingSystem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
