"""Simulator servers on loopback (ephemeral ports) and a plain KIS client for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer
from tests.integration.sim.kis import Kis

FAST = {
    "rest_port": 0,
    "ws_port": 0,
    "symbols": 12,
    "session_minutes": 10.0,
    "candle_seconds": 5.0,
    "tick_interval": 0.05,
    "history_candles": 40,
    "history_days": 60,
    "rate_limit": 0.0,
}

StartSim = Callable[..., Kis]


@pytest.fixture
def start_sim() -> Iterator[StartSim]:
    """Start a simulator with overrides of the fast defaults; all stop after the test."""
    started: list[tuple[SimServer, Kis]] = []

    def start(**overrides: Any) -> Kis:
        server = SimServer(SimConfig(**{**FAST, **overrides})).start()
        kis = Kis(server)
        started.append((server, kis))
        return kis

    yield start
    for server, kis in started:
        kis.close()
        server.stop()


@pytest.fixture
def kis(start_sim: StartSim) -> Kis:
    """A live-dialect simulator with the rate limit lifted."""
    return start_sim()


@pytest.fixture
def paper(start_sim: StartSim) -> Kis:
    """A paper-dialect simulator with the rate limit lifted."""
    return start_sim(env="paper")
