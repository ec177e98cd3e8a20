"""A holder paused past its TTL (SIGSTOP, then SIGCONT) cannot write after another took
the lease: its renewal fails and its fenced write matches no row."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import replace
from typing import Any

import pytest

from stock_manager.adapters.db.engine import make_engine, make_session_factory
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.domain.trade import SymbolTrade
from tests.integration.locks.lease_workers import make_lock, paused_holder


def run(backend: str, lock_url: str, namespace: str, db_url: str) -> dict[str, Any]:
    upgrade(db_url)
    uow = SqlUnitOfWork(make_session_factory(make_engine(db_url)))
    with uow:
        uow.symbols.save(SymbolTrade("005930"), SymbolTrade("005930"))
        uow.commit()
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(
        target=paused_holder, args=(backend, lock_url, namespace, db_url, ready, go, out)
    )
    child.start()
    assert ready.wait(30)
    os.kill(child.pid or 0, signal.SIGSTOP)
    try:
        time.sleep(1.5)  # past the child's 1 s lease
        lock = make_lock(backend, lock_url, namespace)
        lease = lock.acquire("005930", "new-holder", ttl=30)
        assert lease is not None
        with uow:
            trade = uow.symbols.get("005930")
            assert trade is not None
            uow.symbols.save(trade, replace(trade, note="new holder", fence=lease.fence))
            uow.commit()
    finally:
        os.kill(child.pid or 0, signal.SIGCONT)
    go.set()
    result: dict[str, Any] = out.get(timeout=30)
    child.join(10)
    with uow:
        final = uow.symbols.get("005930")
    assert final is not None
    result["note"] = final.note
    result["new_fence"] = lease.fence
    return result


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sql", "redis"])
def test_paused_holder_cannot_write(
    backend: str, postgres_url: str, request: pytest.FixtureRequest
) -> None:
    if backend == "redis":
        lock_url = request.getfixturevalue("redis_url")
        namespace = request.getfixturevalue("redis_namespace")
    else:
        lock_url, namespace = postgres_url, ""
    result = run(backend, lock_url, namespace, postgres_url)
    assert result["new_fence"] > result["fence"]
    assert result["renewed"] is False
    assert result["wrote"] is False
    assert result["note"] == "new holder"
