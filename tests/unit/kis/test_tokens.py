"""The shared token: reuse, refresh before expiry, one issuance per minute, forced reissue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import fakeredis
import pytest

from stock_manager.adapters.kis.errors import KISRateLimitError
from stock_manager.adapters.kis.token_store import (
    MemoryTokenStore,
    RedisTokenStore,
    TokenStore,
)
from stock_manager.adapters.kis.tokens import Issued, TokenManager, TokenPolicy

DAY = 86_400.0


@dataclass
class Clock:
    """Starts at the real now: the Redis store's key expiry is judged by Redis's own clock."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Issuer:
    clock: Clock
    lifetime: float = DAY
    refuse: int = 0  # answer EGW00133 this many times
    calls: list[float] = field(default_factory=list)

    def __call__(self) -> Issued:
        self.calls.append(self.clock.now)
        if self.refuse:
            self.refuse -= 1
            raise KISRateLimitError("[EGW00133] 1분당 1회", code="EGW00133")
        return Issued(f"token-{len(self.calls):04d}-xxxxxxxx", self.clock.now + self.lifetime)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> TokenStore:
    """In-memory stores here; the Redis and SQL stores run for real in tests/integration."""
    if request.param == "memory":
        return MemoryTokenStore()
    return RedisTokenStore(fakeredis.FakeRedis(), "t:")


def manager(
    store: TokenStore, issuer: Callable[[], Issued], clock: Clock, **policy: float
) -> TokenManager:
    values = {"refresh_margin": 1800.0, "min_interval": 60.0, "wait_timeout": 75.0}
    values.update(policy)
    return TokenManager(
        store, "sim:token:abc", issuer, TokenPolicy(**values), clock=clock, sleep=clock.sleep
    )


def test_one_issuance_is_shared_by_every_manager_on_the_store(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    first = manager(store, issuer, clock).get()
    second = manager(store, issuer, clock).get()
    assert first.value == second.value and first.generation == 1
    assert len(issuer.calls) == 1


def test_the_token_is_refreshed_before_it_expires(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    tokens = manager(store, issuer, clock)
    first = tokens.get()
    clock.now += DAY - 1700  # inside the 30-minute margin
    second = tokens.get()
    assert second.generation == 2 and second.value != first.value
    assert len(issuer.calls) == 2


def test_a_refresh_within_a_minute_of_the_last_attempt_keeps_the_valid_token(
    store: TokenStore,
) -> None:
    clock = Clock()
    issuer = Issuer(clock, lifetime=1900)  # in the refresh margin after 100 s
    tokens = manager(store, issuer, clock)
    tokens.get()
    clock.now += 30
    tokens.get()
    assert len(issuer.calls) == 1  # too soon: kept the old one
    clock.now += 80
    assert tokens.get().generation == 2


def test_egw00133_while_the_old_token_is_valid_reuses_it(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    tokens = manager(store, issuer, clock)
    first = tokens.get()
    clock.now += DAY - 600
    issuer.refuse = 1
    assert tokens.get() == first
    assert len(issuer.calls) == 2


def test_a_forced_reissue_happens_once_per_generation(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    a, b = manager(store, issuer, clock), manager(store, issuer, clock)
    refused = a.get()
    clock.now += 120
    renewed_a = a.invalidate(refused)
    renewed_b = b.invalidate(refused)  # b was refused the same generation: no new issuance
    assert renewed_a == renewed_b and renewed_a.generation == 2
    assert len(issuer.calls) == 2


def test_a_forced_reissue_waits_out_the_one_minute_rule(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    tokens = manager(store, issuer, clock)
    refused = tokens.get()
    clock.now += 10
    renewed = tokens.invalidate(refused)
    assert renewed.generation == 2
    assert issuer.calls[1] - issuer.calls[0] >= 60


def test_a_forced_reissue_refused_until_the_deadline_raises(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    tokens = manager(store, issuer, clock, wait_timeout=100.0)
    refused = tokens.get()
    issuer.refuse = 5
    with pytest.raises(KISRateLimitError):
        tokens.invalidate(refused)
    gaps = [b - a for a, b in zip(issuer.calls, issuer.calls[1:], strict=False)]
    assert all(gap >= 60 for gap in gaps)


def test_threads_of_one_process_share_one_issuance() -> None:
    store, calls = MemoryTokenStore(), []
    gate = threading.Barrier(10)

    def slow_issuer() -> Issued:
        calls.append(1)
        return Issued("token-threaded-0001", 1e12)

    tokens = TokenManager(store, "k", slow_issuer, TokenPolicy())
    results: list[str] = []

    def work() -> None:
        gate.wait()
        results.append(tokens.get().value)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1 and len(results) == 10


def test_a_waiter_reads_what_the_lock_holder_issued(store: TokenStore) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    assert store.try_lock("sim:token:abc", "someone-else", 90)
    follower = manager(store, issuer, clock)
    original_sleep = clock.sleep

    def sleep_then_publish(seconds: float) -> None:  # the other holder finishes meanwhile
        original_sleep(seconds)
        other = manager(store, issuer, clock)
        store.unlock("sim:token:abc", "someone-else")
        other.get()

    follower._sleep = sleep_then_publish
    assert follower.get().generation == 1
    assert len(issuer.calls) == 1


def test_credential_repr_hides_the_value() -> None:
    clock = Clock()
    token = manager(MemoryTokenStore(), Issuer(clock), clock).get()
    assert token.value not in repr(token)
