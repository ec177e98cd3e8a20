"""Three real workers, low caps, many simultaneous signals and crafted task messages: the
broker never holds more than the caps allow (issue 13, item 1 and 2, demonstrated).

Three ``celery worker --pool=solo`` processes share PostgreSQL (the ledger, where admission
locks the day's row), Redis leases under the test's own key namespace, and the test's own
embedded Redis as the Celery broker (never the shared server's queues). Once all three are
ready, every signal is published at once: a marketable limit buy for each of the simulator's
symbols, each alone under the caps, and messages a hostile or broken sender could craft.
The simulator's own records are the judge.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from stock_manager.celery_config import build_celery_config
from stock_manager.config import get_settings
from tests.integration.ledger.stack import Stack, wait_for
from tests.integration.ledger.worker_process import LedgerWorker

MAX_POSITIONS = 3
PER_SYMBOL = 1_200_000
TOTAL = 3_500_000
ENTRY = 1_000_000  # each honest signal risks at most this much, at the upper price limit
WORKERS = 3


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {
        "MAX_POSITIONS": str(MAX_POSITIONS),
        "MAX_NOTIONAL_PER_SYMBOL": str(PER_SYMBOL),
        "MAX_TOTAL_NOTIONAL": str(TOTAL),
    }


class Worker(LedgerWorker):
    def ready(self) -> bool:
        return " ready." in self.output()

    def finished(self) -> int:
        """How many ``tasks.orders.enter`` runs this worker has finished."""
        lines = self.output().splitlines()
        return sum(1 for line in lines if "tasks.orders.enter[" in line and " succeeded " in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


@pytest.fixture
def workers(stack: Stack, tmp_path: Path) -> Iterator[list[Worker]]:
    started = [Worker(stack, tmp_path / f"worker{i}.log", "admit") for i in range(WORKERS)]
    try:
        wait_for(lambda: all(w.ready() for w in started), timeout=40, what="three workers ready")
        yield started
    finally:
        for worker in started:
            worker.stop()


def honest_signals(stack: Stack) -> list[list[Any]]:
    """A marketable limit buy (at the upper limit: it takes the asks) of each symbol."""
    signals = []
    for row in stack.admin("symbols")["symbols"]:
        upper = int(row["upper"])
        signals.append([row["symbol"], ENTRY // upper, upper, "00", "race", "signal"])
    return signals


def crafted_signals(symbol: str) -> list[list[Any]]:
    """What ``celery call`` or a forged message could send."""
    return [
        [symbol, 3_000, 1, "01", "crafted", "market type, price 1"],
        [symbol, 1_000_000, 0, "03", "crafted", "best price, no price"],
        [symbol, 50, 0, "00", "crafted", "limit at 0"],
        [symbol, -50, 10_000, "00", "crafted", "negative"],
        [symbol, True, 10_000, "00", "crafted", "a boolean"],
        [symbol, "3000", 10_000, "00", "crafted", "a string"],
        [symbol, 10, 10_000, "99", "crafted", "an unknown order type"],
        ["../../x", 10, 10_000, "00", "crafted", "not a symbol"],
        ["999999", 10, 10_000, "00", "crafted", "an unknown symbol"],
    ]


def test_three_workers_never_exceed_the_caps(stack: Stack, workers: list[Worker]) -> None:
    started = time.monotonic()
    everything = honest_signals(stack)
    honest, spare = everything[:-2], [row[0] for row in everything[-2:]]
    crafted = crafted_signals(spare[0]) + crafted_signals(spare[1])
    messages = [m for pair in zip(honest, honest, strict=True) for m in pair] + crafted
    sender = Celery("admission-e2e-sender")
    sender.conf.update(build_celery_config(get_settings()))  # the test's own embedded broker
    for args in messages:
        sender.send_task("tasks.orders.enter", args=args)

    wait_for(
        lambda: sum(w.finished() for w in workers) >= len(messages),
        timeout=40,
        what=f"all {len(messages)} entries run",
    )
    logs = "".join(w.output() for w in workers)
    # How the entries spread over the workers depends on the machine's load; it is shown,
    # not judged (tests/integration/db/test_admission_race.py races admissions for certain).
    print("entries run per worker:", [w.finished() for w in workers])

    buys = [o for o in stack.broker_orders() if o["side"] == "buy"]
    symbols = {o["symbol"] for o in buys}
    reserved = {o["symbol"]: int(o["qty"]) * int(o["price"] or 0) for o in buys}
    assert len(symbols) == len(buys) <= MAX_POSITIONS, buys
    assert len(buys) == MAX_POSITIONS, "the caps were reached, not avoided"
    assert all(0 < amount <= PER_SYMBOL for amount in reserved.values()), reserved
    assert sum(reserved.values()) <= TOTAL
    held = stack.admin("state")["holdings"]
    assert sum(int(h["cost"]) for h in held) <= TOTAL, held
    assert len(held) <= MAX_POSITIONS

    assert logs.count("refused its arguments") == 2 * 6  # the six malformed messages, twice
    assert "refused [max_positions" in logs
    assert "max_notional_per_symbol" in logs  # 3,000 shares priced from the quote
    assert "[symbol]" in logs  # the unknown symbol
    print(f"took {time.monotonic() - started:.1f} s")
