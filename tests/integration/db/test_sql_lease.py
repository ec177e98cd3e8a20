"""SQL leases on SQLite and PostgreSQL: one holder, fences only go up, expiry, sweep."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from stock_manager.adapters.locks.sql import SqlLeaseLock


def test_one_holder_at_a_time_and_fences_go_up(migrated_engine: Engine) -> None:
    locks = SqlLeaseLock(migrated_engine)
    first = locks.acquire("005930", "a", ttl=30)
    assert first is not None and first.fence == 1
    assert locks.acquire("005930", "b", ttl=30) is None
    assert locks.release(first)
    second = locks.acquire("005930", "b", ttl=30)
    assert second is not None and second.fence == 2
    assert locks.acquire("000660", "a", ttl=30) is not None  # symbols are independent


def test_an_expired_lease_can_be_taken_and_the_old_holder_cannot_renew(
    migrated_engine: Engine,
) -> None:
    locks = SqlLeaseLock(migrated_engine)
    old = locks.acquire("005930", "old", ttl=0.05)
    assert old is not None
    time.sleep(0.1)
    new = locks.acquire("005930", "new", ttl=30)
    assert new is not None and new.fence > old.fence
    assert locks.renew(old, ttl=30) is None
    assert locks.release(old) is False
    assert locks.renew(new, ttl=60) is not None


def test_sweep_releases_only_expired_leases(migrated_engine: Engine) -> None:
    locks = SqlLeaseLock(migrated_engine)
    expired = locks.acquire("005930", "gone", ttl=0.05)
    live = locks.acquire("000660", "here", ttl=30)
    assert expired and live
    time.sleep(0.1)
    assert [lease.symbol for lease in locks.sweep_expired()] == ["005930"]
    assert [lease.symbol for lease in locks.held()] == ["000660"]
    assert locks.sweep_expired() == []
    again = locks.acquire("005930", "next", ttl=30)
    assert again is not None and again.fence == expired.fence + 1
