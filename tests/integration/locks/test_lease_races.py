"""Lease races across processes: exactly one holder at any moment, fences only go up.

Each racer records the interval in which it believed it held the lease; the audit is that
no two intervals overlap and that fences increase with time.
"""

from __future__ import annotations

import itertools
import multiprocessing
from typing import Any

import pytest

from tests.integration.locks.lease_workers import race

RACERS = 6
SECONDS = 3.0


def run_race(backend: str, url: str, namespace: str = "") -> list[tuple[str, int, list]]:  # type: ignore[type-arg]
    ctx = multiprocessing.get_context("spawn")
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(target=race, args=(backend, url, namespace, SECONDS, out))
        for _ in range(RACERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


def assert_one_holder_at_a_time(results: list[tuple[str, int, list]]) -> int:  # type: ignore[type-arg]
    intervals = sorted(
        (start, end, fence, owner) for owner, _, held in results for start, end, fence in held
    )
    assert all(fence > 0 for _, _, fence, _ in intervals), "a release found another holder"
    for (_, e1, f1, o1), (s2, _, f2, o2) in itertools.pairwise(intervals):
        assert e1 <= s2, f"{o1} (fence {f1}) and {o2} (fence {f2}) held at the same time"
        assert f2 > f1, f"fence went from {f1} to {f2}"
    holders = {owner for owner, _, held in results if held}
    assert len(holders) > 1, "the race needs contention to prove anything"
    return len(intervals)


@pytest.mark.slow
def test_sql_lease_race_on_postgres(postgres_url: str) -> None:
    from stock_manager.adapters.db.migrate import upgrade

    upgrade(postgres_url)
    assert assert_one_holder_at_a_time(run_race("sql", postgres_url)) > 50


@pytest.mark.slow
def test_sql_lease_race_on_sqlite(sqlite_url: str) -> None:
    from stock_manager.adapters.db.migrate import upgrade

    upgrade(sqlite_url)
    assert assert_one_holder_at_a_time(run_race("sql", sqlite_url)) > 20


@pytest.mark.slow
def test_redis_lease_race(redis_url: str, redis_namespace: str) -> None:
    assert assert_one_holder_at_a_time(run_race("redis", redis_url, redis_namespace)) > 50
