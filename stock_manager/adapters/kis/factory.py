"""Build the KIS adapter from settings (used by ``bootstrap.Container`` and the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from stock_manager.adapters.kis.broker import KisBroker
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.rate_limit import FileRateLimiter, RedisRateLimiter
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.adapters.kis.token_store import (
    LayeredTokenStore,
    RedisTokenStore,
    SqlTokenStore,
    TokenStore,
)
from stock_manager.adapters.kis.tokens import TokenPolicy
from stock_manager.config import Settings
from stock_manager.ports import RateLimiter

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy import Engine


def credentials(settings: Settings) -> KisCredentials:
    return KisCredentials(
        settings.app_key, settings.app_secret, settings.kis_account_no, settings.kis_hts_id
    )


def limiter_key(settings: Settings) -> str:
    return f"{settings.kis_env}:{credentials(settings).key_id}"


def make_rate_limiter(settings: Settings, redis: Redis | None = None) -> RateLimiter:
    """Redis when the lock backend is Redis (any number of hosts), else a file in DATA_DIR."""
    rate, key = settings.effective_rate_limit, limiter_key(settings)
    timeout = settings.kis_rate_wait_timeout
    if redis is not None:
        return RedisRateLimiter(
            redis, key, rate, namespace=settings.kis_redis_namespace, default_timeout=timeout
        )
    path = settings.data_dir / f"kis-ratelimit-{key.replace(':', '-')}.json"
    return FileRateLimiter(path, rate, default_timeout=timeout)


def make_token_store(
    settings: Settings, *, redis: Redis | None = None, engine: Engine | None = None
) -> TokenStore:
    """Redis with the database behind it when both are given (a Redis restart then costs no
    token issuance), else whichever one is."""
    if redis is not None:
        fast = RedisTokenStore(redis, settings.kis_redis_namespace)
        return fast if engine is None else LayeredTokenStore(fast, SqlTokenStore(engine))
    if engine is None:
        raise ValueError("a token store needs Redis or a database engine")
    return SqlTokenStore(engine)


def make_http_client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.kis_timeout,
        headers={"user-agent": "stock-manager"},
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
    )


def make_http(
    settings: Settings,
    limiter: RateLimiter,
    store: TokenStore,
    client: httpx.Client | None = None,
) -> KisHttp:
    retry = RetryPolicy(
        read_attempts=settings.kis_read_attempts,
        throttle_budget=settings.kis_throttle_budget,
        limiter_timeout=settings.kis_rate_wait_timeout,
    )
    return KisHttp(
        KisEnvironment.from_settings(settings),
        credentials(settings),
        client or make_http_client(settings),
        limiter,
        store,
        retry=retry,
        token_policy=TokenPolicy(refresh_margin=settings.kis_token_refresh_margin),
    )


def make_broker(http: KisHttp, scan_etfs: bool = False) -> KisBroker:
    return KisBroker(KisRestClient(http), KisOrderClient(http), scan_etfs)
