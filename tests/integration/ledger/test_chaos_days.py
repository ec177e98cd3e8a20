"""Many seeded trading days with random faults; after each, the invariants of ``chaos.py``.

CI runs ``CHAOS_DAYS`` (default 2) days on each backend; a long run is one setting away:

    CHAOS_DAYS=50 CHAOS_STEPS=120 .venv/bin/pytest tests/integration/ledger/test_chaos_days.py

A failing day prints its seed, its steps and every broken invariant.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from stock_manager.sim.vi import ViSettings
from tests.integration.ledger.chaos import Day
from tests.integration.ledger.stack import Stack

DAYS = int(os.environ.get("CHAOS_DAYS", "2"))
STEPS = int(os.environ.get("CHAOS_STEPS", "40"))
LEASE_TTL = 4.0
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim_settings() -> dict[str, Any]:
    # Moves of 6 % and more set off a VI (the day's ticks move 4-7 %): a short auction so the
    # day still ends flat; halts come from the day's own steps.
    # 30 symbols: the simulator's universe then holds its ETFs (leveraged and inverse).
    vi = ViSettings(dynamic_pct=6.0, static_pct=10.0, seconds=2.0, extension_seconds=1.0)
    return {"vi": vi, "symbols": 30}


@pytest.fixture
def stack_settings() -> dict[str, str]:
    # A killed worker's lease runs out within the day (soft < hard < TTL < visibility).
    return {
        "TASK_SOFT_TIME_LIMIT": "2",
        "TASK_TIME_LIMIT": "3",
        "WORKER_LOCK_TTL": str(LEASE_TTL),
        "BROKER_VISIBILITY_TIMEOUT": "8",
        "WORKER_HEARTBEAT_INTERVAL": "1",
        "KIS_TIMEOUT": "1",
        "LIQUIDATION_ESCALATE_SECONDS": "3",
        "LIQUIDATION_ROUND_SECONDS": "0.5",
    }


def forget_redis(stack: Stack) -> None:
    """Redis restarted without persistence: every key of this test's namespace is gone."""
    import redis

    namespace = stack.container.lease_namespace
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    keys = list(client.scan_iter(match=namespace + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.parametrize("seed", range(DAYS))
def test_a_day_of_faults_keeps_every_invariant(stack: Stack, backend: str, seed: int) -> None:
    redis_keys = (lambda: forget_redis(stack)) if backend == "postgres" else None
    day = Day(stack, random.Random(seed * 7919 + len(backend)), redis_keys)

    day.run(STEPS)

    problems = day.violations()
    assert problems == [], f"seed {seed} ({backend}): {problems}\nsteps: {day.log}"
    assert {o.symbol for o in stack.orders()} & set(day.etfs), "no ETF was traded"
    print(f"seed {seed} ({backend}): {day.summary()}")
