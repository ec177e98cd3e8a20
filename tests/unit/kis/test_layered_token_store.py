"""The layered token store: Redis first, a durable copy behind it (fakeredis; the real Redis,
PostgreSQL and SQLite run in tests/integration/kis/test_token_survives_redis.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

import fakeredis
import pytest
from sqlalchemy.exc import OperationalError

from stock_manager.adapters.kis.token_store import (
    Credential,
    LayeredTokenStore,
    MemoryTokenStore,
    RedisTokenStore,
)
from stock_manager.adapters.kis.tokens import TokenManager, TokenPolicy
from tests.unit.kis.test_tokens import Clock, Issuer

KEY = "sim:token:abc"
SECRET = "token-0001-very-secret"


class Durable(MemoryTokenStore):
    """A database stand-in that counts reads and can be made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.down = False

    def _check(self) -> None:
        if self.down:
            # A driver error quotes the statement and its parameters: the token among them.
            raise OperationalError("UPDATE kis_tokens SET value=?", (SECRET,), Exception())

    def load(self, key: str) -> Credential | None:
        self._check()
        self.loads += 1
        return super().load(key)

    def save(self, key: str, credential: Credential) -> None:
        self._check()
        super().save(key, credential)

    def last_attempt(self, key: str) -> float | None:
        self._check()
        return super().last_attempt(key)

    def mark_attempt(self, key: str, at: float) -> None:
        self._check()
        super().mark_attempt(key, at)


@pytest.fixture
def redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def durable() -> Durable:
    return Durable()


@pytest.fixture
def store(redis: fakeredis.FakeRedis, durable: Durable) -> LayeredTokenStore:
    return LayeredTokenStore(RedisTokenStore(redis, "t:"), durable)


def credential(generation: int = 1, value: str = SECRET) -> Credential:
    now = time.time()
    return Credential(value, now, now + 86_400, generation)


def test_saves_go_to_both_and_reads_are_served_by_redis(
    store: LayeredTokenStore, durable: Durable
) -> None:
    store.save(KEY, credential())
    assert durable.load(KEY) == store.fast.load(KEY)
    durable.loads = 0
    for _ in range(5):
        assert store.load(KEY) is not None
    assert durable.loads == 0


def test_a_redis_that_forgot_is_refilled_from_the_database(
    store: LayeredTokenStore, redis: fakeredis.FakeRedis, durable: Durable
) -> None:
    saved = credential()
    store.save(KEY, saved)
    redis.flushall()
    assert store.load(KEY) == saved
    assert store.fast.load(KEY) == saved  # back in Redis: the next read is Redis's
    durable.loads = 0
    assert store.load(KEY) == saved
    assert durable.loads == 0


def test_a_copy_from_the_database_never_overwrites_a_newer_issuance(
    store: LayeredTokenStore,
) -> None:
    assert store.fast.offer(KEY, credential(1))
    assert store.fast.offer(KEY, credential(3, "token-3"))
    assert not store.fast.offer(KEY, credential(2, "token-2"))
    assert not store.fast.offer(KEY, credential(3, "token-3b"))
    held = store.fast.load(KEY)
    assert held is not None and (held.generation, held.value) == (3, "token-3")


def test_the_last_attempt_outlives_redis(
    store: LayeredTokenStore, redis: fakeredis.FakeRedis
) -> None:
    store.mark_attempt(KEY, 1_800_000_000.5)
    redis.flushall()
    assert store.last_attempt(KEY) == pytest.approx(1_800_000_000.5)
    store.fast.mark_attempt(KEY, 1_800_000_090.0)  # the later of the two counts
    assert store.last_attempt(KEY) == pytest.approx(1_800_000_090.0)


def test_the_issuance_lock_is_redis_alone(store: LayeredTokenStore, durable: Durable) -> None:
    assert store.try_lock(KEY, "a", 30)
    assert not store.try_lock(KEY, "b", 30)
    assert durable.try_lock(KEY, "b", 30)  # the database's lock was never taken
    store.unlock(KEY, "a")
    assert store.try_lock(KEY, "b", 30)


def test_clear_forgets_both(store: LayeredTokenStore, durable: Durable) -> None:
    store.save(KEY, credential())
    store.clear(KEY)
    assert store.load(KEY) is None and durable.load(KEY) is None


def test_a_failing_database_never_stops_redis_nor_leaks_the_token(
    store: LayeredTokenStore,
    redis: fakeredis.FakeRedis,
    durable: Durable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    durable.down = True
    with caplog.at_level(logging.WARNING):
        store.save(KEY, credential())
        store.mark_attempt(KEY, 1_800_000_000.0)
        assert store.load(KEY) is not None
        assert store.last_attempt(KEY) == pytest.approx(1_800_000_000.0)
        redis.flushall()
        assert store.load(KEY) is None  # nothing anywhere: the manager issues, as before
    assert "OperationalError" in caplog.text
    assert SECRET not in caplog.text


def manager(store: Any, issuer: Issuer, clock: Clock) -> TokenManager:
    policy = TokenPolicy(refresh_margin=1800.0, min_interval=60.0, wait_timeout=75.0)
    return TokenManager(store, KEY, issuer, policy, clock=clock, sleep=clock.sleep)


def test_after_redis_forgets_a_new_process_reuses_the_token_without_waiting(
    store: LayeredTokenStore, redis: fakeredis.FakeRedis
) -> None:
    clock = Clock()
    issuer = Issuer(clock)
    first = manager(store, issuer, clock).get()
    redis.flushall()
    started = clock.now
    second = manager(store, issuer, clock).get()  # a worker started after the restart
    assert second.value == first.value and second.generation == 1
    assert len(issuer.calls) == 1 and clock.now == started


def test_an_issuance_after_redis_forgot_still_waits_for_the_minute(
    store: LayeredTokenStore, redis: fakeredis.FakeRedis
) -> None:
    """The token ran out and Redis forgot the attempt made 40 s ago: the database remembers
    it, so the next issuance waits out the minute instead of meeting EGW00133."""
    clock = Clock()
    issuer = Issuer(clock, lifetime=30.0)
    manager(store, issuer, clock).get()
    clock.sleep(40.0)
    redis.flushall()
    manager(store, issuer, clock).get()
    assert len(issuer.calls) == 2
    assert issuer.calls[1] - issuer.calls[0] >= 60.0
