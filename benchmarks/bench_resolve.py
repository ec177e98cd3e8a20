"""Ambiguous send → decision: how long an order stays UNKNOWN (issue 12, item 3).

The simulator (in this process, its gateway at the dialect's real limit: 20 requests/s on
live, 2 on paper) answers every entry ambiguously, in one of two ways drawn at random: the
order is placed and its reply mangled (a reply shape from ``order_reply_faults``: the order
must be found and adopted), or the gateway answers HTTP 500 EGW00001 without placing it (the
order must be proven absent, which takes a complete read begun
``UNKNOWN_PROPAGATION_SECONDS`` after the send). The ledger is SQLite; the follow-up looks a
worker would run (``tasks.orders.resolve_order``) are run by a small scheduler here, at their
countdown. A reader thread keeps the account's request budget busy meanwhile (quotes at half
the limit), as a trading day would.

Latency = the moment the order was decided (adopted or rejected) − the moment the send
ended without an answer (``Order.updated_at`` when it became UNKNOWN). Goal: p99 ≤ 5 s.

    .venv/bin/python -m benchmarks.bench_resolve [--samples 60] [--dialects live,paper]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._report import percentile, print_load, report
from stock_manager import bootstrap
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.config import get_settings
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import OrderStatus, OrderType
from stock_manager.ports import Lane, PendingTasks, using_lane
from stock_manager.services import market
from stock_manager.services.context import ServiceContext
from stock_manager.services.orders import cancel_order, enter
from stock_manager.services.resolver import resolve_with_follow_up
from stock_manager.services.sync import sync_orders
from stock_manager.sim import SimConfig, SimServer

GOAL_P99 = 5.0
LIMITS = {"live": 20.0, "paper": 2.0}


def start(dialect: str, work: Path) -> tuple[SimServer, ServiceContext]:
    sim = SimServer(
        SimConfig(
            rest_port=0,
            ws_port=0,
            env=dialect,  # type: ignore[arg-type]
            symbols=30,
            session_minutes=60,
            rate_limit=LIMITS[dialect],
            token_issue_interval=1.0,
        )
    ).start()
    now = datetime.now(KST)
    os.environ.update(
        {
            "DATA_DIR": str(work / dialect),
            "DATABASE_URL": f"sqlite:///{work / dialect / 'ledger.db'}",
            "LOCK_BACKEND": "sql",
            "KIS_ENV": "sim",
            "KIS_SIM_DIALECT": dialect,
            "KIS_REST_URL": sim.rest_url,
            "KIS_WS_URL": sim.ws_url,
            "KIS_RATE_LIMIT": str(LIMITS[dialect] * 0.9),
            "KIS_TIMEOUT": "2",
            "MAX_ORDERS_PER_MINUTE": "100000",  # entries back to back: the rate is not measured
            "UNIVERSE": "005930",  # paper has no ranking; no scan runs here anyway
            "SESSION_OPEN": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
            "SESSION_CLOSE": (now + timedelta(minutes=59)).strftime("%H:%M:%S"),
        }
    )
    get_settings.cache_clear()
    bootstrap.use(None)
    upgrade(get_settings().effective_database_url)
    container = bootstrap.container()
    ctx = replace(container.context(), tasks=PendingTasks())
    market.advance(ctx.uow, ctx.calendar, ctx.clock)
    httpx.post(f"{sim.rest_url}/_sim/account", json={"cash": 10**12})
    return sim, ctx


class Worker:
    """Runs the follow-ups a resolve task would, at their countdown."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.queue: list[tuple[float, int, int]] = []

    def take(self) -> None:
        pending: PendingTasks = self.ctx.tasks  # type: ignore[assignment]
        for _, args, countdown in pending.pending:
            self.queue.append((time.monotonic() + countdown, int(args[0]), int(args[1])))  # type: ignore[call-overload]
        pending.pending.clear()

    def run_due(self) -> None:
        now = time.monotonic()
        due = [job for job in self.queue if job[0] <= now]
        self.queue = [job for job in self.queue if job[0] > now]
        for _, order_id, attempt in due:
            resolve_with_follow_up(self.ctx, order_id, attempt)
            self.take()


def busy_reader(
    ctx: ServiceContext, symbols: list[str], rate: float, stop: threading.Event
) -> None:
    """Scan-lane quotes at ``rate``: the budget is shared, as on a trading day."""
    while not stop.wait(1 / rate):
        try:
            with using_lane(Lane.SCAN):
                ctx.broker.quote(random.choice(symbols))
        except Exception:  # a throttled read is fine here
            time.sleep(0.1)


def measure(dialect: str, samples: int, work: Path, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    sim, ctx = start(dialect, work)
    symbols = [s["symbol"] for s in httpx.get(f"{sim.rest_url}/_sim/symbols").json()["symbols"]]
    stop = threading.Event()
    load = (ctx, symbols, LIMITS[dialect] / 2, stop)
    reader = threading.Thread(target=busy_reader, args=load, daemon=True)
    reader.start()
    worker, latencies = Worker(ctx), {"found": [], "absent": []}
    try:
        for n in range(samples):
            symbol = symbols[n % len(symbols)]
            lower = int(sim.exchange.markets[symbol].limits.lower)
            placed = rng.random() < 0.5
            fault: dict[str, Any] = (
                {"order_reply_fault_rate": 1.0}
                if placed
                else {"http500_rate": 1.0, "paths": ["order-cash"]}
            )
            httpx.post(f"{sim.rest_url}/_sim/faults", json={"reset": True, **fault})
            sent = enter(ctx, symbol, 1, lower, OrderType.LIMIT, "bench")
            httpx.post(f"{sim.rest_url}/_sim/faults", json={"reset": True})
            worker.take()
            if sent.order_id is None:
                raise RuntimeError(f"{symbol}: the entry was not written: {sent}")
            kind = "found" if placed else "absent"
            latencies[kind].append(decide(ctx, worker, sent.order_id))
            cancel_order(ctx, sent.order_id)  # the symbol is FLAT again for its next turn
            sync_orders(ctx)
            progress(dialect, n + 1, samples)
    finally:
        stop.set()
        reader.join(5)
        sim.stop()
        bootstrap.use(None)
    return latencies


def decide(ctx: ServiceContext, worker: Worker, order_id: int, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.uow as uow:
            order = uow.orders.get(order_id)
            trail = [
                t
                for t in uow.audit.recent(500)
                if t.key == (order.idempotency_key if order else "")
            ]
        if order is not None and order.status is not OrderStatus.UNKNOWN:
            unknown_at = next(t.at for t in trail if t.to_state == "UNKNOWN")
            decided_at = max(t.at for t in trail if t.from_state == "UNKNOWN")
            return (decided_at - unknown_at).total_seconds()
        worker.run_due()
        time.sleep(0.02)
    raise TimeoutError(f"order {order_id} undecided after {timeout:g} s")


def progress(dialect: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{dialect}: {done}/{total} ")
        sys.stderr.flush()


def main() -> int:
    logging.basicConfig(level=logging.ERROR)  # the faults make every order warn: keep it quiet
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--dialects", default="live,paper")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    print_load("load before")
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as work:
        for dialect in args.dialects.split(","):
            by_kind = measure(dialect, args.samples, Path(work), args.seed)
            every = [x for kind in by_kind.values() for x in kind]
            for kind, latencies in [("all", every), *by_kind.items()]:
                p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
                gateway = f"{LIMITS[dialect]:g}/s"
                rows.append([dialect, gateway, kind, len(latencies), p50, p99, max(latencies)])
            figures[dialect] = by_kind
    print(f"\nload: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} CPUs")
    report(
        "resolve",
        "ambiguous send -> decision (seconds)",
        ["dialect", "gateway", "orders", "samples", "p50", "p99", "max"],
        rows,
        figures,
    )
    ok = all(row[5] <= GOAL_P99 for row in rows)
    print(f"goal p99 <= {GOAL_P99:g} s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
