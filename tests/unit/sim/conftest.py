"""An exchange on a hand-driven clock, so unit tests control time exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from stock_manager.domain.clock import KST
from stock_manager.sim.clock import ManualClock
from stock_manager.sim.config import SimConfig
from stock_manager.sim.exchange import Exchange

START = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
MakeExchange = Callable[..., tuple[Exchange, ManualClock]]


@pytest.fixture
def make_exchange() -> MakeExchange:
    def make(**overrides: Any) -> tuple[Exchange, ManualClock]:
        clock = ManualClock(START)
        options: dict[str, Any] = {
            "symbols": 10,
            "session_minutes": 30.0,
            "candle_seconds": 5.0,
            "tick_interval": 0.5,
            "history_candles": 20,
            "history_days": 30,
        }
        config = SimConfig(**{**options, **overrides})
        return Exchange(config, clock), clock

    return make
