"""The token stores and the Redis limiter on real Redis, PostgreSQL and SQLite."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.kis.rate_limit import RedisRateLimiter
from stock_manager.adapters.kis.token_store import (
    Credential,
    LayeredTokenStore,
    RedisTokenStore,
    SqlTokenStore,
    TokenStore,
)
from stock_manager.adapters.kis.tokens import Issued, TokenManager, TokenPolicy
from stock_manager.ports import Lane


@pytest.fixture(params=["redis", "sqlite", "postgres", "redis+postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[TokenStore]:
    """Each store alone, and Redis with PostgreSQL behind it (what Redis leases use)."""
    kinds = str(request.param).split("+")
    client = engine = None
    found: list[TokenStore] = []
    if "redis" in kinds:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        found.append(RedisTokenStore(client, request.getfixturevalue("redis_namespace")))
    for kind in kinds[-1:]:
        if kind != "redis":
            url = str(request.getfixturevalue(f"{kind}_url"))
            upgrade(url)
            engine = make_engine(url)
            found.append(SqlTokenStore(engine))
    fast, *durable = found
    yield (
        LayeredTokenStore(fast, durable[0])
        if isinstance(fast, RedisTokenStore) and durable
        else fast
    )
    if client is not None:
        client.close()
    if engine is not None:
        engine.dispose()


KEY = "sim:token:0123456789abcdef"


def test_credentials_round_trip(store: TokenStore) -> None:
    assert store.load(KEY) is None
    credential = Credential("eyJ-token-value-0001", 1_800_000_000.5, 1_800_086_400.0, 3)
    store.save(KEY, credential)
    assert store.load(KEY) == credential
    store.mark_attempt(KEY, 1_800_000_001.25)
    assert store.last_attempt(KEY) == pytest.approx(1_800_000_001.25)
    store.clear(KEY)
    assert store.load(KEY) is None


def test_the_issuance_lock_has_one_holder_and_expires(store: TokenStore) -> None:
    assert store.try_lock(KEY, "a", 0.5)
    assert not store.try_lock(KEY, "b", 0.5)
    store.unlock(KEY, "b")  # not b's to release
    assert not store.try_lock(KEY, "b", 0.5)
    time.sleep(0.6)
    assert store.try_lock(KEY, "b", 5)  # a's lease ran out
    store.unlock(KEY, "b")
    assert store.try_lock(KEY, "c", 5)


def test_managers_on_one_store_issue_once(store: TokenStore) -> None:
    calls: list[int] = []

    def issuer() -> Issued:
        calls.append(1)
        return Issued(f"token-{uuid.uuid4().hex}", time.time() + 86_400)

    managers = [TokenManager(store, KEY, issuer, TokenPolicy(min_interval=0.0)) for _ in range(5)]
    values = {m.get().value for m in managers}
    assert len(values) == 1 and len(calls) == 1
    refused = managers[0].get()
    renewed = {m.invalidate(refused).generation for m in managers}
    assert renewed == {2} and len(calls) == 2  # one forced reissue for five refusals


def test_redis_limiter_lanes_on_a_real_server(redis_url: str, redis_namespace: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(client, "lanes", 5.0, namespace=redis_namespace)
    assert limiter.try_acquire("scan", Lane.SCAN) == 0
    assert limiter.try_acquire("exit", Lane.EXIT) > 0
    time.sleep(0.21)
    assert limiter.try_acquire("sync", Lane.SYNC) > 0.15  # EXIT waits: SYNC yields
    assert limiter.try_acquire("exit", Lane.EXIT) == 0
    time.sleep(0.21)
    assert limiter.try_acquire("sync", Lane.SYNC) == 0
    client.close()


def test_redis_limiter_spacing_across_clients(redis_url: str, redis_namespace: str) -> None:
    a, b = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    first = RedisRateLimiter(a, "pair", 20.0, namespace=redis_namespace)
    second = RedisRateLimiter(b, "pair", 20.0, namespace=redis_namespace)
    start = time.perf_counter()
    for _ in range(5):
        first.acquire(Lane.SYNC)
        second.acquire(Lane.SYNC)
    elapsed = time.perf_counter() - start
    assert 0.44 <= elapsed < 0.8  # ten requests at 20/s share one schedule
    a.close()
    b.close()
