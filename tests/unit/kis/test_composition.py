"""bootstrap.Container builds the KIS adapter from settings, on either backend."""

from __future__ import annotations

from stock_manager.adapters.kis.broker import KisBroker
from stock_manager.adapters.kis.rate_limit import FileRateLimiter, RedisRateLimiter
from stock_manager.adapters.kis.token_store import (
    LayeredTokenStore,
    RedisTokenStore,
    SqlTokenStore,
    TokenStore,
)
from stock_manager.bootstrap import Container
from stock_manager.config import load_settings


def assert_layered(store: TokenStore) -> None:
    """Redis serves; the database keeps a copy that outlives Redis's memory."""
    assert isinstance(store, LayeredTokenStore)
    assert isinstance(store.fast, RedisTokenStore)
    assert isinstance(store.durable, SqlTokenStore)


def test_the_embedded_default_shares_limiter_and_token_through_the_embedded_redis() -> None:
    c = Container(load_settings())
    assert isinstance(c.rate_limiter, RedisRateLimiter)
    assert c.rate_limiter.rate == 18.0  # sim speaks live by default: 18/s
    assert_layered(c.token_store)
    assert isinstance(c.broker, KisBroker)
    assert c.kis.env.name == "sim" and c.kis.env.rest_url == "http://127.0.0.1:18080"
    c.dispose()


def test_the_sql_lock_backend_uses_a_file_limiter_and_the_database() -> None:
    c = Container(load_settings(lock_backend="sql"))
    assert isinstance(c.rate_limiter, FileRateLimiter)
    assert isinstance(c.token_store, SqlTokenStore)
    c.dispose()


def test_redis_settings_share_limiter_and_token_through_redis() -> None:
    settings = load_settings(
        redis_url="redis://127.0.0.1:1/0", kis_sim_dialect="paper", universe=["005930"]
    )
    c = Container(settings)
    assert isinstance(c.rate_limiter, RedisRateLimiter)
    assert c.rate_limiter.rate == 1.8
    assert_layered(c.token_store)
    assert c.kis.env.dialect == "paper" and c.kis.env.notice_tr_id == "H0STCNI9"


def test_live_settings_keep_orders_disarmed_unless_told() -> None:
    secrets = {"kis_app_key": "PS" + "k" * 34, "kis_app_secret": "s" * 180}
    live = Container(load_settings(kis_env="live", **secrets))
    assert live.kis.env.rest_url == "https://openapi.koreainvestment.com:9443"
    assert not live.kis.env.orders_allowed
    armed = Container(load_settings(kis_env="live", trading_armed=True, **secrets))
    assert armed.kis.env.orders_allowed
    assert "s" * 180 not in repr(armed.kis) and "k" * 34 not in repr(armed.broker)
