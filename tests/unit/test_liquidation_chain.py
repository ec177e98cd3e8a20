"""The liquidation task chain: each round queues the next just after the round lease expires."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import tasks.liquidation as liquidation
from stock_manager.services.liquidation import LIQUIDATION_KEY, RoundReport
from tests.fakes.ports import FakeClock, FakeLeaseLock

INTERVAL = 3.0


def run_one_round(monkeypatch: pytest.MonkeyPatch, seconds: float) -> tuple[float, FakeLeaseLock]:
    """Run ``liquidate_all`` once with a round that takes ``seconds``; its countdown."""
    clock = FakeClock()
    locks = FakeLeaseLock(clock)
    monotonic = [1_000.0]

    def one_round(ctx: Any, scheduled: bool = False, symbol: str | None = None) -> RoundReport:
        assert locks.acquire(LIQUIDATION_KEY, "worker", INTERVAL) is not None
        clock.advance(seconds)
        monotonic[0] += seconds
        return RoundReport(ran=True, done=False)

    policy = SimpleNamespace(liquidation=SimpleNamespace(round_interval=INTERVAL))
    queued: list[float] = []
    monkeypatch.setattr(liquidation.time, "monotonic", lambda: monotonic[0])
    monkeypatch.setattr(liquidation, "liquidate_round", one_round)
    monkeypatch.setattr(liquidation, "context", lambda: SimpleNamespace(trading=policy))
    monkeypatch.setattr(
        liquidation.liquidate_all, "apply_async", lambda **kw: queued.append(kw["countdown"])
    )
    liquidation.liquidate_all()
    (countdown,) = queued
    clock.advance(countdown)
    return countdown, locks


@pytest.mark.parametrize("seconds", [0.0, 0.4, 2.9, 3.0, 10.5, 40.0])
def test_the_next_round_gets_the_round_lease(
    monkeypatch: pytest.MonkeyPatch, seconds: float
) -> None:
    _, locks = run_one_round(monkeypatch, seconds)
    assert locks.acquire(LIQUIDATION_KEY, "next round", INTERVAL) is not None


def test_short_rounds_start_one_interval_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    countdown, _ = run_one_round(monkeypatch, 0.4)
    assert 0.4 + countdown == pytest.approx(INTERVAL + 0.5)


def test_a_round_longer_than_the_interval_is_followed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hundred sells at the rate limit take ten seconds: no further full interval after."""
    countdown, _ = run_one_round(monkeypatch, 10.5)
    assert countdown == 0.0
    countdown, _ = run_one_round(monkeypatch, INTERVAL + 0.2)
    assert countdown == pytest.approx(0.3)
