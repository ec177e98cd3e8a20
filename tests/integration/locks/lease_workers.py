"""Child-process bodies for the lease race tests (importable by spawned processes)."""

from __future__ import annotations

import os
import random
import time
from typing import Any

from stock_manager.ports import LeaseLock


def make_lock(backend: str, url: str, namespace: str) -> LeaseLock:
    if backend == "redis":
        import redis

        from stock_manager.adapters.locks.redis import RedisLeaseLock

        return RedisLeaseLock(redis.Redis.from_url(url), namespace=namespace)
    from stock_manager.adapters.db.engine import make_engine
    from stock_manager.adapters.locks.sql import SqlLeaseLock

    return SqlLeaseLock(make_engine(url))


def race(backend: str, url: str, namespace: str, seconds: float, out: Any) -> None:
    """Grab the lease as often as possible; record each holding interval and its fence."""
    lock = make_lock(backend, url, namespace)
    owner = f"racer-{os.getpid()}"
    rng = random.Random(os.getpid())
    deadline = time.time() + seconds
    held: list[tuple[float, float, int]] = []
    attempts = 0
    while time.time() < deadline:
        attempts += 1
        lease = lock.acquire("RACE", owner, ttl=5.0)
        if lease is None:
            time.sleep(rng.uniform(0, 0.002))
            continue
        start = time.time()
        time.sleep(rng.uniform(0.0005, 0.003))
        end = time.time()
        released = lock.release(lease)
        held.append((start, end, lease.fence))
        if not released:
            held.append((start, end, -1))  # a release that found someone else: a violation
    out.put((owner, attempts, held))


def paused_holder(
    backend: str, lock_url: str, namespace: str, db_url: str, ready: Any, go: Any, out: Any
) -> None:
    """Take the lease, get paused past its TTL (the test SIGSTOPs us), then try to write."""
    from dataclasses import replace

    from stock_manager.adapters.db.engine import make_engine, make_session_factory
    from stock_manager.adapters.db.uow import SqlUnitOfWork
    from stock_manager.domain.errors import StaleWrite

    lock = make_lock(backend, lock_url, namespace)
    uow = SqlUnitOfWork(make_session_factory(make_engine(db_url)))
    lease = lock.acquire("005930", f"sleeper-{os.getpid()}", ttl=1.0)
    assert lease is not None
    ready.set()
    go.wait(30)  # the test pauses us here with SIGSTOP, for longer than the TTL
    renewed = lock.renew(lease, ttl=1.0)
    with uow:
        trade = uow.symbols.get("005930")  # fresh read: only the fence can stop this write
        assert trade is not None
        try:
            uow.symbols.save(trade, replace(trade, note="stale writer", fence=lease.fence))
            uow.commit()
            wrote = True
        except StaleWrite:
            wrote = False
    out.put({"fence": lease.fence, "renewed": renewed is not None, "wrote": wrote})
