"""Lease acquire+release latency on each backend, interleaved call by call with references:

- Redis lease vs redis-py's own ``Lock`` (``SET NX PX`` + a Lua release); goal p50 ≤ 1.5×.
- SQL lease (PostgreSQL, SQLite) vs a bare ``SELECT 1`` (shown, not judged) and vs the *write
  floor*: two autocommitted one-row ``UPDATE``s, each on its own checkout from the pool
  (with the engine's pre-ping), as an acquire and its release are; on SQLite each in our
  engine's ``BEGIN IMMEDIATE`` transaction. That is what an
  acquire and a release are at least (goal p50 ≤ 1.5×).

Each run takes ``--samples`` of every operation, one call of each in turn (the order rotates),
so load that comes and goes hits them alike. p50 and p99 are per run; the table shows the
pooled figures and the spread (min–max) of the per-run ratios over ``--runs`` runs. The load
the machine was under is printed before and after.

    .venv/bin/python -m benchmarks.bench_leases [--runs 5] [--samples 500] [--postgres URL]
        [--redis URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import INTERLEAVED_WARMUP, interleaved, percentile, print_load, report
from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.locks.redis import RedisLeaseLock
from stock_manager.adapters.locks.sql import SqlLeaseLock

Op = Callable[[], None]


def rows_for(
    measured: str, references: dict[str, float | None], times: dict[str, list[list[float]]]
) -> list[list[Any]]:
    """Table rows: the measured operation against each reference (with its goal)."""
    rows = [_row(measured, times[measured], None, None)]
    for ref, goal in references.items():
        rows.append(_row(ref, times[ref], times[measured], goal))
    return rows


def _row(
    name: str,
    runs: list[list[float]],
    measured: list[list[float]] | None,
    goal: float | None,
) -> list[Any]:
    pooled = [s for run in runs for s in run]
    row: list[Any] = [
        name,
        len(pooled),
        percentile(pooled, 50) * 1e6,
        percentile(pooled, 99) * 1e6,
    ]
    if measured is None:
        return [*row, "", "", "", ""]
    p50 = [percentile(m, 50) / percentile(r, 50) for m, r in zip(measured, runs, strict=True)]
    p99 = [percentile(m, 99) / percentile(r, 99) for m, r in zip(measured, runs, strict=True)]
    ratios = [
        f"{statistics.median(p50):.2f} ({min(p50):.2f}–{max(p50):.2f})",
        f"{statistics.median(p99):.2f} ({min(p99):.2f}–{max(p99):.2f})",
    ]
    if goal is None:
        return [*row, *ratios, "shown only", ""]
    return [*row, *ratios, f"≤ {goal:g}×", statistics.median(p50) <= goal]


def redis_rows(url: str, runs: int, samples: int) -> list[list[Any]]:
    client = redis.Redis.from_url(url)
    namespace = f"bench:{uuid.uuid4().hex[:8]}:"
    ours = RedisLeaseLock(client, namespace=namespace)

    def lease() -> None:
        held = ours.acquire("005930", "bench", ttl=10)
        assert held is not None
        ours.release(held)

    def redis_py_lock() -> None:
        lock = client.lock(namespace + "pylock", timeout=10)
        assert lock.acquire(blocking=False)
        lock.release()

    try:
        times = interleaved({"redis lease": lease, "redis-py Lock": redis_py_lock}, runs, samples)
    finally:
        for key in client.scan_iter(match=namespace + "*"):
            client.delete(key)
        client.close()
    return rows_for("redis lease", {"redis-py Lock": 1.5}, times)


def sql_rows(name: str, url: str, runs: int, samples: int) -> list[list[Any]]:
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, n BIGINT)"))
        conn.execute(text("INSERT INTO bench_floor VALUES (1, 0), (2, 0)"))
    ours = SqlLeaseLock(engine)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    bump = text("UPDATE bench_floor SET n = n + 1 WHERE id = :id")
    sqlite = engine.dialect.name == "sqlite"

    def lease() -> None:
        held = ours.acquire("005930", "bench", ttl=10)
        assert held is not None
        ours.release(held)

    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def write_floor() -> None:  # what an acquire plus a release cost at least
        if sqlite:  # BEGIN IMMEDIATE + COMMIT each (our engine's AUTOCOMMIT would roll back)
            for key in (1, 2):
                with engine.begin() as conn:
                    conn.execute(bump, {"id": key})
            return
        for key in (1, 2):  # a checkout each, as an acquire and its release take
            with autocommit.connect() as conn:
                conn.execute(bump, {"id": key})

    ops = {f"{name} lease": lease, f"{name} SELECT 1": select_one}
    ops[f"{name} 2 UPDATEs"] = write_floor
    try:
        times = interleaved(ops, runs, samples)
        with engine.connect() as conn:  # the floor's writes were committed, every one
            written = conn.execute(text("SELECT min(n) FROM bench_floor")).scalar()
        assert written == INTERLEAVED_WARMUP + runs * samples, (
            f"the write floor lost writes: {written}"
        )
    finally:
        engine.dispose()
    # SELECT 1 is shown, not judged: a write waits for its WAL flush, a SELECT does not, so
    # that ratio measures the disk (12x under load here) more than the lease.
    references = {f"{name} SELECT 1": None, f"{name} 2 UPDATEs": 1.5}
    return rows_for(f"{name} lease", references, times)


@contextmanager
def fresh_postgres(server: str) -> Iterator[str]:
    name = f"sm_bench_leases_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=500, help="per operation and run")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    before = print_load("load before")
    rows = redis_rows(args.redis, args.runs, args.samples)
    with fresh_postgres(args.postgres) as url:
        rows += sql_rows("postgres", url, args.runs, args.samples)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        rows += sql_rows("sqlite", url, args.runs, args.samples)
    goals = [bool(r[-1]) for r in rows if r[-1] != ""]
    report(
        "leases",
        f"lease acquire+release vs references, interleaved call by call ({args.runs} runs)",
        [
            "operation",
            "samples",
            "p50 µs",
            "p99 µs",
            "lease/this p50: median (min–max of runs)",
            "lease/this p99",
            "goal (p50)",
            "met",
        ],
        rows,
        {"load_before": before, "runs": args.runs, "goals_met": all(goals)},
    )
    sys.exit(0 if all(goals) else 1)


if __name__ == "__main__":
    main()
