"""Popular PyPI KIS clients against the simulator (issue 15).

Each client runs its typical calls (token, quotes, charts, balance, orders, revise/cancel,
history, real-time price and notice) in every dialect it supports. A failure that is the
client's own bug is an ``xfail(strict=True)`` carrying the reason, so a fix upstream turns
the test red and the table in ``docs/simulator.md`` gets updated. Clients are pointed at the
simulator by their own configuration, or by patching the KIS host constants they hard-code
(each module says what it had to do). Nothing here talks to anything but loopback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer

# A fast market that trades now. The rate limit is lifted (clients pace themselves, and a
# throttled call would test their retry, not their conformance); tokens may be issued
# back to back, since every client module starts its own clients.
CONFORMANCE: dict[str, Any] = {
    "rest_port": 0,
    "ws_port": 0,
    "symbols": 30,
    "session_minutes": 30.0,
    "candle_seconds": 60.0,  # real minutes: clients page minute charts a minute at a time
    "tick_interval": 0.05,
    "history_candles": 90,
    "history_days": 130,
    "rate_limit": 0.0,
    "token_issue_interval": 0.0,
}
SYMBOL = "005930"

StartSim = Callable[..., SimServer]


def client_bug(reason: str) -> pytest.MarkDecorator:
    """The call fails because of the client, not the simulator (``strict``: a fix shows)."""
    return pytest.mark.xfail(reason=reason, strict=True)


@pytest.fixture(scope="module")
def start_sim() -> Iterator[StartSim]:
    """Start simulators (fast defaults plus overrides); all stop when the module ends."""
    started: list[SimServer] = []

    def start(**overrides: Any) -> SimServer:
        server = SimServer(SimConfig(**{**CONFORMANCE, **overrides})).start()
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
