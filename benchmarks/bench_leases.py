"""Lease acquire+release throughput and latency on each backend, beside a reference measured
in the same run: redis-py's own ``Lock`` for the Redis lease, a bare ``SELECT 1`` for the SQL
lease (PostgreSQL and SQLite). Goals: Redis at most 1.5x redis-py Lock; SQL at most 3x.

    .venv/bin/python benchmarks/bench_leases.py [--seconds 3] [--postgres URL] [--redis URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from sqlalchemy import text

from benchmarks._report import percentile, report
from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.locks.redis import RedisLeaseLock
from stock_manager.adapters.locks.sql import SqlLeaseLock


def measure(operation: Callable[[], None], seconds: float) -> tuple[float, float, float]:
    """Run ``operation`` back to back; return operations/s, p50 and p99 in microseconds."""
    for _ in range(50):
        operation()  # warm up connections and caches
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    rate = len(samples) / sum(samples)
    return rate, percentile(samples, 50) * 1e6, percentile(samples, 99) * 1e6


def redis_pair(url: str, seconds: float) -> list[list[object]]:
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

    reference = measure(redis_py_lock, seconds)
    measured = measure(lease, seconds)
    for key in client.scan_iter(match=namespace + "*"):
        client.delete(key)
    return [
        ["redis lease", *measured, reference[1] and measured[1] / reference[1], 1.5],
        ["redis-py Lock", *reference, 1.0, None],
    ]


def sql_pair(name: str, url: str, seconds: float) -> list[list[object]]:
    upgrade(url)
    engine = make_engine(url)
    ours = SqlLeaseLock(engine)

    def lease() -> None:
        held = ours.acquire("005930", "bench", ttl=10)
        assert held is not None
        ours.release(held)

    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    reference = measure(select_one, seconds)
    measured = measure(lease, seconds)
    engine.dispose()
    return [
        [f"{name} lease", *measured, measured[1] / reference[1], 3.0],
        [f"{name} SELECT 1", *reference, 1.0, None],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    rows = redis_pair(args.redis, args.seconds)
    rows += sql_pair("postgres", args.postgres, args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        rows += sql_pair("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.seconds)
    ratios = {str(r[0]): r[4] for r in rows if r[5] is not None}
    report(
        "leases",
        "lease acquire+release vs reference (same run)",
        ["operation", "ops/s", "p50 µs", "p99 µs", "p50 ratio", "goal"],
        rows,
        {
            "ratios": ratios,
            "goals_met": all(float(r[4]) <= float(r[5]) for r in rows if r[5] is not None),
        },
    )


if __name__ == "__main__":
    main()
