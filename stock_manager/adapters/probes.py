"""``stock-manager config check --connect``: reach every server the settings name.

Each probe answers ``Probe(name, ok, detail, ms)`` and never raises: the database (and
whether its schema is at Alembic's head), Redis (and its eviction policy: an evicted task,
fence or beat entry is lost silently), the Celery broker, and KIS (a token, through the
shared token store, so it costs no extra issuance). Details are masked: no password, token
or secret appears in them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stock_manager.config import mask_url

if TYPE_CHECKING:
    from stock_manager.bootstrap import Container

TIMEOUT = 5.0  # seconds each server gets to answer


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    ok: bool
    detail: str
    ms: float


def probe(name: str, action: Callable[[], str]) -> Probe:
    started = time.perf_counter()
    try:
        detail, ok = action(), True
    except Exception as exc:  # a probe reports every failure; it is what it is for
        first = " ".join(str(exc).split("(Background on this error")[0].split())
        detail, ok = f"{type(exc).__name__}: {mask_url(first)[:240]}", False
    return Probe(name, ok, detail, (time.perf_counter() - started) * 1000)


def run_all(c: Container) -> list[Probe]:
    return [
        probe("database", lambda: database(c)),
        probe("redis", lambda: redis_server(c)),
        probe("celery broker", lambda: broker(c)),
        probe("kis", lambda: kis_token(c)),
    ]


class NotReady(RuntimeError):
    """The server answers but cannot serve yet (schema not migrated, eviction on)."""


def database(c: Container) -> str:
    from sqlalchemy import text

    from stock_manager.adapters.db.engine import make_engine
    from stock_manager.adapters.db.migrate import current_revision, head_revision

    url = c.settings.effective_database_url
    connect_args = {} if url.startswith("sqlite") else {"connect_timeout": int(TIMEOUT)}
    engine = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("select version()" if connect_args else "select 1"))
            server = str(version.scalar()).split(" on ")[0] if connect_args else "SQLite"
        current, head = current_revision(engine), head_revision(url)
    finally:
        engine.dispose()
    where = f"{server} at {mask_url(url)}"
    if current is None:
        raise NotReady(f"{where}: no schema; run stock-manager migrate")
    if current != head:
        raise NotReady(f"{where}: schema at {current}, head is {head}; run stock-manager migrate")
    return f"{where}: schema at head ({head})"


def redis_server(c: Container) -> str:
    import redis

    client: Any = c.redis
    client.connection_pool.connection_kwargs.setdefault("socket_connect_timeout", TIMEOUT)
    client.connection_pool.connection_kwargs.setdefault("socket_timeout", TIMEOUT)
    info = client.info("server")
    name = "valkey" if "valkey_version" in info else "redis"
    version = f"{name} {info.get('valkey_version') or info.get('redis_version', '?')}"
    where = f"{version} at {mask_url(c.settings.effective_redis_url)}"
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.ResponseError:  # CONFIG disabled (managed Redis): cannot tell
        return f"{where}; maxmemory-policy unreadable (must be noeviction)"
    policy = policy.decode() if isinstance(policy, bytes) else policy
    if policy != "noeviction":
        raise NotReady(f"{where}: maxmemory-policy is {policy}; set noeviction")
    return f"{where}, noeviction"


def broker(c: Container) -> str:
    from kombu.connection import Connection

    from stock_manager.adapters import celery_transport
    from stock_manager.celery_config import build_celery_config

    celery_transport.install()
    config = build_celery_config(c.settings)
    url, options = config["broker_url"], config["broker_transport_options"]
    with Connection(url, transport_options=options, connect_timeout=TIMEOUT) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, interval_start=1, timeout=TIMEOUT)
        return f"{conn.transport_cls} at {mask_url(url)}"


def kis_token(c: Container) -> str:
    """A token from the shared store (issued if none is valid). The host is tried first, so
    an unreachable KIS fails in seconds instead of after every retry of the token call."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(c.settings.effective_kis_rest_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=TIMEOUT):
            pass
    except OSError as exc:
        raise ConnectionError(f"{url.hostname}:{port} unreachable ({exc})") from None
    credential = c.kis.tokens.get()
    left = (credential.expires_at - time.time()) / 3600
    return f"token for {c.settings.effective_kis_rest_url} valid {left:.1f} h more"
