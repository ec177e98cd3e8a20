"""Code that runs in child processes of the multi-process tests (importable by forkserver)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import KISError
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.token_store import TokenStore
from stock_manager.adapters.kis.tokens import TokenPolicy
from stock_manager.ports import Lane, RateLimiter


@dataclass(frozen=True)
class Target:
    """Where the simulator is and who we are (plain data: it crosses process boundaries)."""

    rest_url: str
    ws_url: str
    app_key: str
    app_secret: str
    account: str
    store: tuple[str, str]  # ("redis", url) or ("sql", database url)
    namespace: str
    dialect: str = "live"


def make_store(target: Target) -> TokenStore:
    kind, url = target.store
    if kind == "redis":
        import redis

        from stock_manager.adapters.kis.token_store import RedisTokenStore

        return RedisTokenStore(redis.Redis.from_url(url), target.namespace)
    from stock_manager.adapters.db.engine import make_engine
    from stock_manager.adapters.kis.token_store import SqlTokenStore

    return SqlTokenStore(make_engine(url))


def make_http(target: Target, limiter: RateLimiter, retry: RetryPolicy | None = None) -> KisHttp:
    env = KisEnvironment(
        name="sim",
        dialect=target.dialect,  # type: ignore[arg-type]
        rest_url=target.rest_url,
        ws_url=target.ws_url,
        rate_limit=20.0,
    )
    creds = KisCredentials(SecretStr(target.app_key), SecretStr(target.app_secret), target.account)
    return KisHttp(
        env,
        creds,
        httpx.Client(),
        limiter,
        make_store(target),
        retry=retry,
        token_policy=TokenPolicy(min_interval=60.0, wait_timeout=60.0),
    )


class _NoLimit:
    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        return None


def need_token(target: Target, barrier: Any) -> dict[str, Any]:
    """Wait for every sibling, then ask for the shared token at the same moment."""
    http = make_http(target, _NoLimit())
    barrier.wait()
    token = http.tokens.get()
    return {"issued": http.tokens.issued, "value": token.value, "generation": token.generation}


class Recording:
    """Wraps a limiter and records when each request was let through."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.granted: list[float] = []

    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        self.inner.acquire(lane, timeout)
        self.granted.append(time.time())


def hammer(
    target: Target, redis_url: str, rate: float, seconds: float, barrier: Any
) -> dict[str, Any]:
    """Ask for inquire-price as fast as the shared limiter allows for ``seconds``."""
    import redis

    from stock_manager.adapters.kis.rate_limit import RedisRateLimiter

    client = redis.Redis.from_url(redis_url)
    limiter = Recording(RedisRateLimiter(client, "hammer", rate, namespace=target.namespace))
    http = make_http(target, limiter, RetryPolicy(read_attempts=1, throttle_budget=0.0))
    http.tokens.get()
    params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    errors: dict[str, int] = {}
    barrier.wait()
    limiter.granted.clear()
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            http.request(trids.INQUIRE_PRICE, params=params, lane=Lane.SCAN)
        except KISError as exc:
            key = exc.code or type(exc).__name__
            errors[key] = errors.get(key, 0) + 1
    sent = [t for t in limiter.granted if t < deadline]
    return {"sent": sent, "errors": errors}
