"""The broker stress scenario of ``benchmarks/bench_broker.py``, at a size CI can afford:
producers, consumers SIGKILLed at random, bad entries; nothing lost, nobody else dies."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_broker import run_stress

pytestmark = pytest.mark.slow


def test_killed_consumers_lose_nothing_and_bad_entries_kill_nobody(tmp_path: Path) -> None:
    result = run_stress(tmp_path, messages=3000, kills_every=2.0, timeout=240, seed=11)
    assert result.kills >= 2, result  # the scenario really killed consumers
    assert result.bad_entries > 0 and result.set_aside == result.bad_entries, result
    assert result.unexpected_exits == [], result
    assert result.lost == 0, result
