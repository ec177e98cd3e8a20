"""The KIS adapter against the real simulator on loopback (ephemeral ports).

``start_sim(**overrides)`` starts a :class:`SimServer` (fast market, rate limit lifted,
one token per second instead of per minute); ``connect(server, ...)`` builds our own
client stack against it: ``KisHttp`` + ``KisBroker`` with an in-memory token store and
no-op limiter unless the test passes real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from stock_manager.adapters.kis.broker import KisBroker
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.adapters.kis.token_store import MemoryTokenStore, TokenStore
from stock_manager.adapters.kis.tokens import TokenPolicy
from stock_manager.ports import Lane, RateLimiter
from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer

FAST: dict[str, Any] = {
    "rest_port": 0,
    "ws_port": 0,
    "symbols": 12,
    "session_minutes": 30.0,
    "candle_seconds": 5.0,
    "tick_interval": 0.05,
    "history_candles": 40,
    "history_days": 130,
    "rate_limit": 0.0,
    "token_issue_interval": 1.0,
}


class NoLimit:
    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        return None


@dataclass
class Client:
    server: SimServer
    http: KisHttp
    broker: KisBroker

    @property
    def rest(self) -> KisRestClient:
        return self.broker.rest

    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.server.rest_url}/_sim/{path}"
        reply = httpx.post(url, json=body) if body is not None else httpx.get(url)
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def symbols(self) -> list[str]:
        return [s["symbol"] for s in self.admin("symbols")["symbols"]]

    def close(self) -> None:
        self.http.close()


StartSim = Callable[..., SimServer]
Connect = Callable[..., Client]


@pytest.fixture
def start_sim() -> Iterator[StartSim]:
    started: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        server = SimServer(SimConfig(**{**FAST, **overrides})).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def connect() -> Iterator[Connect]:
    clients: list[Client] = []

    def build(
        server: SimServer,
        *,
        name: str = "sim",
        dialect: str | None = None,
        armed: bool = False,
        limiter: RateLimiter | None = None,
        store: TokenStore | None = None,
        retry: RetryPolicy | None = None,
        min_interval: float = 1.0,
        timeout: float = 5.0,
        app_key: str | None = None,
        use_old_tr_ids: bool = False,
    ) -> Client:
        config = server.config
        env = KisEnvironment(
            name=name,  # type: ignore[arg-type]
            dialect=dialect or config.env,  # type: ignore[arg-type]
            rest_url=server.rest_url,
            ws_url=server.ws_url,
            rate_limit=1000.0,
            timeout=timeout,
            trading_armed=armed,
            use_old_tr_ids=use_old_tr_ids,
        )
        credentials = KisCredentials(
            SecretStr(app_key or config.app_key),
            SecretStr(config.app_secret),
            config.account,
            config.hts_id,
        )
        http = KisHttp(
            env,
            credentials,
            httpx.Client(),
            limiter or NoLimit(),
            store or MemoryTokenStore(),
            retry=retry or RetryPolicy(backoff_base=0.05),
            token_policy=TokenPolicy(min_interval=min_interval, wait_timeout=10.0),
        )
        client = Client(server, http, KisBroker(KisRestClient(http), KisOrderClient(http)))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def live(start_sim: StartSim, connect: Connect) -> Client:
    """Our client on a live-dialect simulator."""
    return connect(start_sim())


@pytest.fixture
def paper(start_sim: StartSim, connect: Connect) -> Client:
    """Our client on a paper-dialect simulator."""
    return connect(start_sim(env="paper"))
