"""A whole compressed trading day with real processes: simulator, ``celery worker``,
``celery beat`` and ``stock-manager stream``, on PostgreSQL + Redis and on the embedded
default. Candidates are found and entered, a stop-loss forced through the simulator's
admin endpoint exits at once, a second position falls into a dynamic VI below its stop and
exits in the auction at its price, liquidation leaves the account flat by the simulator's
own state, and the ledger equals the simulator's orders and fills one to one."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from stock_manager.demo.dashboard import Frame
from stock_manager.demo.drills import ViDrill
from stock_manager.demo.plan import DemoOptions
from stock_manager.demo.runner import Demo
from stock_manager.domain.krx import Rounding, round_to_tick
from stock_manager.domain.trade import SymbolState
from tests.servers import RedisServer


class ForceStopLoss:
    """Once a position is held, push its price 3 % under the entry through the admin API,
    then time how long until the sell order reaches the simulator."""

    def __init__(self) -> None:
        self.symbol: str | None = None
        self.forced_at = 0.0
        self.exit_after: float | None = None

    def __call__(self, demo: Demo, frame: Frame) -> None:
        if self.symbol is None:
            self._force(demo, frame)
        elif self.exit_after is None:
            self._look_for_exit(demo)

    def _force(self, demo: Demo, frame: Frame) -> None:
        if frame.status.market.value != "TRADING":
            return
        held = [t for t in frame.status.symbols if t.state is SymbolState.HOLDING and t.quantity]
        if not held:
            return
        trade = held[0]
        price = round_to_tick(trade.average_price * Decimal("0.97"), Rounding.DOWN)
        response = httpx.post(
            f"{demo.rest}/_sim/price", json={"symbol": trade.symbol, "price": price, "hold": True}
        )
        response.raise_for_status()
        self.symbol, self.forced_at = trade.symbol, time.monotonic()

    def _look_for_exit(self, demo: Demo) -> None:
        state = httpx.get(f"{demo.rest}/_sim/state").json()
        sells = [
            o
            for o in state["orders"]
            if o["symbol"] == self.symbol and o["side"] == "sell" and o["kind"] == "new"
        ]
        if sells:
            self.exit_after = time.monotonic() - self.forced_at
            httpx.post(f"{demo.rest}/_sim/price", json={"symbol": self.symbol, "release": True})


def run_day(
    tmp_path: Path, extra_env: dict[str, str]
) -> tuple[Demo, ForceStopLoss, ViDrill, int, str]:
    forcer = ForceStopLoss()
    drill = ViDrill(avoid=lambda: forcer.symbol)
    output = io.StringIO()
    demo = Demo(
        DemoOptions(minutes=2, symbols=20, seed=11, out=tmp_path / "day"),
        Console(file=output, width=140),
        extra_env,
        [forcer, drill],
    )
    code = demo.run()
    return demo, forcer, drill, code, output.getvalue()


def check_vi(drill: ViDrill, output: str) -> None:
    """The exit of a symbol that fell into a dynamic VI below its stop was accepted during
    the auction (never as 03, which it refuses) and filled at the auction's price."""
    assert drill.symbol is not None, "no second position was held for the VI drill"
    assert drill.outcome is not None, output
    sells = drill.outcome["sells"]
    assert [o["ord_dvsn"] for o in sells] == ["00"], sells
    assert sells[0]["status"] == "filled", sells
    assert {f["price"] for f in sells[0]["fills"]} == {drill.auction_price}


def check(demo: Demo, forcer: ForceStopLoss, drill: ViDrill, code: int, output: str) -> None:
    assert demo.verdict is not None, output
    assert demo.verdict.problems == [], output
    assert demo.verdict.flat
    assert demo.verdict.ledger_matches
    assert code == 0, output
    assert demo.verdict.figures["orders"] >= 2, output  # candidates were found and entered
    assert forcer.symbol is not None, "no position was ever held"
    assert forcer.exit_after is not None, "the forced stop-loss never produced a sell"
    assert forcer.exit_after < 5.0, f"the stop-loss exit took {forcer.exit_after:.1f} s"
    check_vi(drill, output)


def test_a_trading_day_on_postgres_and_redis(tmp_path: Path, postgres_url: str) -> None:
    redis_server = RedisServer(tmp_path / "redis", persist=False).start()  # queues of its own
    try:
        env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_server.url, "LOCK_BACKEND": "redis"}
        check(*run_day(tmp_path, env))
    finally:
        redis_server.stop()


def test_a_trading_day_on_the_embedded_default(tmp_path: Path) -> None:
    check(*run_day(tmp_path, {}))


@pytest.mark.parametrize("minutes", ["2"])
def test_the_demo_command(tmp_path: Path, minutes: str) -> None:
    """``stock-manager demo --minutes 2`` as a user runs it: exit 0, flat, report written."""
    import subprocess
    import sys

    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "stock_manager", "demo", "--minutes", minutes, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "OK" in result.stdout
    for name in ("report.png", "summary.json", "verification.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
