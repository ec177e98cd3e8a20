"""The limiters: even spacing, priority lanes, dead waiters, timeouts, penalties."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import fakeredis
import pytest

from stock_manager.adapters.kis.errors import KISRateLimitError
from stock_manager.adapters.kis.rate_limit import FileRateLimiter, RedisRateLimiter
from stock_manager.domain.broker import BrokerRateLimited
from stock_manager.ports import Lane


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def file_limiter(
    tmp_path: Path, clock: Clock, rate: float = 10.0, burst: int = 1, heartbeat: float = 2.0
) -> FileRateLimiter:
    return FileRateLimiter(
        tmp_path / "rl.json",
        rate,
        burst=burst,
        heartbeat=heartbeat,
        clock=clock,
        sleep=clock.sleep,
        monotonic=clock,
    )


def test_requests_are_spaced_evenly(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0)
    grants = []
    for _ in range(25):
        limiter.acquire(Lane.SYNC)
        grants.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert all(gap == pytest.approx(0.1, abs=1e-6) for gap in gaps)
    window = [g for g in grants if grants[0] <= g < grants[0] + 1.0 - 1e-5]
    assert len(window) == 10  # never more than the rate in any one second


def test_a_burst_allows_that_many_at_once(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0, burst=3)
    for _ in range(3):
        limiter.acquire(Lane.SYNC)
    assert clock.now == 1_800_000_000.0


def test_a_waiting_higher_lane_holds_lower_lanes_back(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0)
    assert limiter.try_acquire("scan-1", Lane.SCAN) == 0  # slot taken
    assert limiter.try_acquire("exit-1", Lane.EXIT) > 0  # must wait: registered as waiter
    clock.now += 0.1  # the next slot is free now
    assert limiter.try_acquire("scan-2", Lane.SCAN) > 0  # but EXIT waits, so scan yields
    assert limiter.try_acquire("entry-1", Lane.ENTRY) > 0
    assert limiter.try_acquire("liq-1", Lane.LIQUIDATION) == 0  # higher still: goes first
    clock.now += 0.1
    assert limiter.try_acquire("exit-1", Lane.EXIT) == 0
    clock.now += 0.1
    assert limiter.try_acquire("scan-2", Lane.SCAN) > 0  # ENTRY is still waiting
    assert limiter.try_acquire("entry-1", Lane.ENTRY) == 0
    clock.now += 0.1
    assert limiter.try_acquire("scan-2", Lane.SCAN) == 0


def test_equal_lanes_do_not_block_each_other(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0)
    limiter.try_acquire("a", Lane.SYNC)
    assert limiter.try_acquire("b", Lane.SYNC) > 0
    clock.now += 0.1
    assert limiter.try_acquire("c", Lane.SYNC) == 0


def test_a_dead_waiter_stops_holding_others_back(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0, heartbeat=2.0)
    limiter.try_acquire("scan-1", Lane.SCAN)
    limiter.try_acquire("exit-crashed", Lane.EXIT)  # then its process dies
    clock.now += 0.5
    assert limiter.try_acquire("scan-2", Lane.SCAN) > 0
    clock.now += 2.0
    assert limiter.try_acquire("scan-2", Lane.SCAN) == 0


def test_timing_out_raises_rate_limited_and_unregisters(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=0.5)
    limiter.acquire(Lane.SYNC)
    with pytest.raises(KISRateLimitError) as caught:
        limiter.acquire(Lane.EXIT, timeout=1.0)
    assert isinstance(caught.value, BrokerRateLimited)
    clock.now += 2.0
    assert limiter.try_acquire("scan", Lane.SCAN) == 0  # the EXIT waiter is gone


def test_penalize_holds_every_lane(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0)
    limiter.penalize(1.5)
    start = clock.now
    limiter.acquire(Lane.LIQUIDATION)
    assert clock.now - start == pytest.approx(1.5, abs=0.01)


def test_a_clock_jump_backwards_does_not_block_forever(tmp_path: Path) -> None:
    clock = Clock()
    limiter = file_limiter(tmp_path, clock, rate=10.0)
    limiter.acquire(Lane.SYNC)
    clock.now -= 3600
    limiter.try_acquire("x", Lane.SYNC)
    assert limiter.try_acquire("y", Lane.SYNC) == pytest.approx(0.1, abs=1e-3)


def test_a_corrupt_state_file_starts_over(tmp_path: Path) -> None:
    clock = Clock()
    (tmp_path / "rl.json").write_text("{not json")
    assert file_limiter(tmp_path, clock).try_acquire("x", Lane.SYNC) == 0


# -- the Redis script (fakeredis runs the same Lua; the server clock is real time) -----------
def redis_limiter(rate: float = 5.0) -> RedisRateLimiter:
    return RedisRateLimiter(fakeredis.FakeRedis(), "sim:abc", rate, namespace="t:")


def test_redis_spaces_requests() -> None:
    limiter = redis_limiter(rate=5.0)
    assert limiter.try_acquire("a", Lane.SYNC) == 0
    wait = limiter.try_acquire("b", Lane.SYNC)
    assert 0.15 < wait <= 0.2


def test_redis_lanes_and_forget() -> None:
    limiter = redis_limiter(rate=2.0)
    limiter.try_acquire("scan-1", Lane.SCAN)
    assert limiter.try_acquire("exit-1", Lane.EXIT) > 0
    time.sleep(0.52)
    assert limiter.try_acquire("scan-2", Lane.SCAN) > 0.4  # yields a whole interval to EXIT
    limiter.forget("exit-1")
    assert limiter.try_acquire("scan-2", Lane.SCAN) == 0


def test_redis_acquire_blocks_for_the_interval() -> None:
    limiter = redis_limiter(rate=20.0)
    start = time.perf_counter()
    for _ in range(5):
        limiter.acquire(Lane.SYNC)
    assert 0.19 <= time.perf_counter() - start < 0.5


def test_redis_penalize() -> None:
    limiter = redis_limiter(rate=100.0)
    limiter.penalize(0.3)
    assert limiter.try_acquire("a", Lane.LIQUIDATION) == pytest.approx(0.3, abs=0.05)


def test_limiters_reject_nonsense_rates(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate"):
        redis_limiter(rate=0)
    with pytest.raises(ValueError, match="rate"):
        FileRateLimiter(tmp_path / "x", 1.0, burst=0)
