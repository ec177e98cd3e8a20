"""Popular PyPI KIS clients against the simulator (issue 15).

Each client runs its typical calls (token, quotes, charts, balance, orders, revise/cancel,
history, real-time price and notice) in every dialect it supports. A failure that is the
client's own bug is an ``xfail(strict=True)`` carrying the reason, so a fix upstream turns
the test red and the table in ``docs/simulator.md`` gets updated. Clients are pointed at the
simulator by their own configuration, or by patching the KIS host constants they hard-code
(each module says what it had to do). Nothing here talks to anything but loopback.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from stock_manager.domain.clock import KST
from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer

# A regular KRX day seen at 14:00 KST (clients assume 09:00-15:30: minute charts paged back
# to 09:00, fixed query hours), with every minute since the open already traded. The rate
# limit is lifted (clients pace themselves; a throttled call would test their retries, not
# their conformance); tokens may be issued back to back, and each simulator has its own app
# key, since clients cache tokens per app key across instances.
MARKET_TIME = (14, 0)
CONFORMANCE: dict[str, Any] = {
    "rest_port": 0,
    "ws_port": 0,
    "symbols": 30,
    "candle_seconds": 60.0,  # real minutes: clients page minute charts a minute at a time
    "tick_interval": 0.05,
    "history_candles": 300,  # 09:00 to 14:00
    "history_days": 130,
    "rate_limit": 0.0,
    "token_issue_interval": 0.0,
}
SYMBOL = "005930"

StartSim = Callable[..., SimServer]


class MarketClock:
    """Wall time moved to ``MARKET_TIME`` KST today when created; it runs at real speed."""

    def __init__(self) -> None:
        real = datetime.now(KST)
        start = real.replace(hour=MARKET_TIME[0], minute=MARKET_TIME[1], second=0, microsecond=0)
        self.offset = start - real

    def now(self) -> datetime:
        return datetime.now(KST) + self.offset


def app_key() -> str:
    """A fresh 36-character app key, as KIS issues them."""
    return ("PSconformance" + uuid.uuid4().hex)[:36]


def client_bug(reason: str) -> pytest.MarkDecorator:
    """The call fails because of the client, not the simulator (``strict``: a fix shows)."""
    return pytest.mark.xfail(reason=reason, strict=True)


LOOPBACK_NAMES = frozenset({"localhost", "::1"})


@pytest.fixture(scope="module", autouse=True)
def loopback_only() -> Iterator[None]:
    """Refuse to resolve any host but loopback while a client module runs: the clients
    hard-code KIS's hosts, and one that slipped past its configuration fails here at once."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK_NAMES and not name.startswith("127."):
            raise socket.gaierror(f"conformance tests reach loopback only, not {name!r}")
        return real(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", guarded)
        yield


@pytest.fixture(scope="module")
def start_sim() -> Iterator[StartSim]:
    """Start simulators (fast defaults plus overrides); all stop when the module ends."""
    started: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        config = SimConfig(**{**CONFORMANCE, "app_key": app_key(), **overrides})
        server = SimServer(config, clock=MarketClock()).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def admin(server: SimServer, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"{server.rest_url}/_sim/{path}"
    reply = httpx.post(url, json=body) if body is not None else httpx.get(url)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def orders_of(server: SimServer) -> dict[str, dict[str, Any]]:
    """The simulator's orders by 10-digit ODNO."""
    return {o["odno"]: o for o in admin(server, "state")["orders"]}


def lower_limit(server: SimServer, symbol: str = SYMBOL) -> int:
    (row,) = [s for s in admin(server, "symbols")["symbols"] if s["symbol"] == symbol]
    return int(row["lower"])


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
