"""Redis lease fences never go backwards when Redis forgets (fakeredis; the real server is
restarted in tests/integration/locks/test_redis_restart.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from stock_manager.adapters.db.fences import FenceFloor
from stock_manager.adapters.locks.redis import FenceBaseUnavailable, RedisLeaseLock

NS = "t:"


class CountingRedis(fakeredis.FakeRedis):
    """Counts commands sent (each is one round trip here: no pipelines in acquire)."""

    commands: list[str]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


class Floor:
    """A database stand-in: its highest fence and clock, and how often it was read."""

    def __init__(self, highest: int = 0, now_ms: int | None = None) -> None:
        self.highest, self.now_ms, self.reads = highest, now_ms, 0

    def __call__(self) -> FenceFloor:
        self.reads += 1
        return FenceFloor(self.highest, self.now_ms or int(time.time() * 1000))


def make(client: fakeredis.FakeRedis, floor: Callable[[], FenceFloor] | None) -> RedisLeaseLock:
    return RedisLeaseLock(client, NS, floor=floor)


@pytest.fixture
def client() -> CountingRedis:
    c = CountingRedis()
    c.commands = []
    return c


def fence(lock: RedisLeaseLock, key: str = "005930") -> int:
    lease = lock.acquire(key, "w", 30)
    assert lease is not None
    assert lock.renew(lease, 30) is not None  # the stored value matches the fence's digits
    assert [h.fence for h in lock.held() if h.symbol == key] == [lease.fence]
    assert lock.release(lease)
    return lease.fence


def test_a_fresh_redis_is_seeded_once_then_each_acquire_is_one_round_trip(
    client: CountingRedis,
) -> None:
    floor = Floor(highest=40)
    lock = make(client, floor)
    first = fence(lock)
    assert first > 40 and first >= int(time.time() * 1e6) - 60_000_000  # a µs clock base
    client.commands.clear()
    fences = [lock.acquire(f"{n:06d}", "w", 30) for n in range(20)]
    assert all(f is not None for f in fences)
    assert floor.reads == 1
    assert client.commands == ["EVALSHA"] * 20


def test_the_database_highest_fence_wins_when_it_is_above_the_clocks(
    client: CountingRedis,
) -> None:
    ahead = int(time.time() * 1e6) + 10**12  # written by a holder whose clock ran ahead
    lock = make(client, Floor(highest=ahead, now_ms=1))
    assert fence(lock) == ahead + 1
    assert fence(lock) == ahead + 2
    assert fence(lock, "000660") == ahead + 1  # a new key starts at the base, per key


def test_after_a_flush_fences_continue_above_every_fence_granted_before(
    client: CountingRedis,
) -> None:
    floor = Floor()
    lock = make(client, floor)
    before = [fence(lock) for _ in range(50)]
    in_flight = lock.acquire("005930", "paused", 30)  # granted, never written anywhere
    assert in_flight is not None
    client.flushall()  # what a restart without persistence leaves
    after = fence(lock)
    assert after > max([*before, in_flight.fence])
    assert lock.renew(in_flight, 30) is None
    assert floor.reads == 2


def test_a_counter_evicted_alone_does_not_go_back(client: CountingRedis) -> None:
    lock = make(client, Floor())
    before = [fence(lock) for _ in range(5)]
    client.delete(NS + "fence:005930")
    assert fence(lock) > max(before)


def test_a_base_evicted_alone_leaves_the_counters_going_up(client: CountingRedis) -> None:
    floor = Floor()
    lock = make(client, floor)
    before = [fence(lock) for _ in range(5)]
    client.delete(NS + "fence-base")
    assert fence(lock) > max(before)
    assert floor.reads == 2


def test_racing_seeders_keep_the_first_base_and_share_no_fence(client: CountingRedis) -> None:
    """Worker A finds the base missing; while it reads the database, worker B seeds,
    is granted and releases a lease. A's seed is then a no-op and its fence is B's + 1."""
    b = make(client, Floor())
    granted: list[int] = []

    def slow_floor() -> FenceFloor:
        granted.append(fence(b))
        return FenceFloor(0, 1)  # A's reading is older than B's seed

    a = make(client, slow_floor)
    granted.append(fence(a))
    assert granted[1] == granted[0] + 1


def test_keys_that_are_not_symbols_are_fenced_alike(client: CountingRedis) -> None:
    lock = make(client, Floor(highest=7))
    round_lease = lock.acquire("__liquidation__", "beat", 60)
    assert round_lease is not None and round_lease.fence > 7
    assert lock.acquire("__liquidation__", "other", 60) is None
    client.flushall()
    again = lock.acquire("__liquidation__", "other", 60)
    assert again is not None and again.fence > round_lease.fence


def test_no_lease_is_granted_while_the_database_cannot_be_read(client: CountingRedis) -> None:
    def unreachable() -> FenceFloor:
        raise ConnectionError("database down")

    lock = make(client, unreachable)
    with pytest.raises(ConnectionError):
        lock.acquire("005930", "w", 30)
    assert client.keys("*") == []  # no lease, no counter, no base


def test_a_base_that_keeps_vanishing_is_an_error_not_a_loop(
    client: CountingRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = make(client, Floor())
    monkeypatch.setattr(lock, "_seed", lambda keys, args: b"1")  # seeds nothing
    with pytest.raises(FenceBaseUnavailable):
        lock.acquire("005930", "w", 30)


def test_without_a_database_the_clock_alone_sets_the_base(client: CountingRedis) -> None:
    lock = make(client, None)
    first = fence(lock)
    client.flushall()
    assert fence(lock) > first
