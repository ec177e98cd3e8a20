"""Price checks at the request limit (issue 16, item 4): 1,000 held symbols priced and marked.

The simulator (live dialect, 20 requests/s gateway) in its own process, a fresh PostgreSQL
database, Redis for the KIS limiter and token (db 9, flushed before and after). The
benchmark seeds N HOLDING symbols in the ledger at the simulator's prices and runs
``services.prices.check_prices`` — what ``tasks.prices.check_prices`` runs every 2 s — back
to back, through the real KIS adapter and the shared limiter at ``--rate``.

Per cycle: the wall time, the time of the multi-quotes (30 symbols a request) and of the
mark write, and how many ``UPDATE`` statements reached the database (the goal: one). The
floor is the requests the quotes need over the rate: ceil(N / 30) / rate.

    .venv/bin/python -m benchmarks.bench_prices [--held 1000] [--cycles 10] [--rate 18]
        [--postgres URL | --sqlite] [--redis URL]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import print_load, report
from benchmarks._system import TradingSystem
from stock_manager import bootstrap
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.services import prices

GOAL_SECONDS = 2.0
QUOTES_PER_REQUEST = 30  # the multi-quote's limit (docs/kis-adapter.md)


def seed(held: dict[str, int]) -> None:
    """N symbols HOLDING 10 shares bought at the current price (no exit due at once)."""
    with bootstrap.container().uow() as uow:
        for symbol, price in held.items():
            trade = SymbolTrade(
                symbol,
                SymbolState.HOLDING,
                quantity=10,
                cost=10 * price,
                fence=1,
                strategy="bench",
                high_water=price,
                last_price=price,
            )
            uow.symbols.save(SymbolTrade(symbol), trade)
        uow.commit()


class Timed:
    """Wraps the broker's ``quotes`` and counts the database's ``UPDATE`` statements."""

    def __init__(self, ctx: Any) -> None:
        self.quotes_s = 0.0
        self.updates = 0
        broker = ctx.broker
        inner = broker.quotes

        def quotes(symbols: list[str]) -> Any:
            start = time.perf_counter()
            try:
                return inner(symbols)
            finally:
                self.quotes_s += time.perf_counter() - start

        broker.quotes = quotes
        self.committed_at = 0.0
        engine = bootstrap.container().engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _commit(self, conn: Any) -> None:
        self.committed_at = time.perf_counter()  # the marks' commit: the cycle's only one

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            self.updates += 1

    def reset(self) -> None:
        self.quotes_s, self.updates, self.committed_at = 0.0, 0, 0.0


def run(system: TradingSystem, held_count: int, cycles: int, rate: float) -> dict[str, Any]:
    system.fresh_database()
    system.use_env(system.env(KIS_RATE_LIMIT=f"{rate:g}"))
    listing = system.admin("symbols")["symbols"]
    held = {s["symbol"]: int(s["last"]) for s in listing[:held_count]}
    if len(held) < held_count:
        raise SystemExit(f"the simulator lists only {len(held)} symbols")
    seed(held)
    ctx = bootstrap.container().context()
    timed = Timed(ctx)
    prices.check_prices(ctx)  # warm-up: the token, connections, compiled statements
    rows = []
    for _ in range(cycles):
        timed.reset()
        start = time.perf_counter()
        result = prices.check_prices(ctx)
        total = time.perf_counter() - start
        rows.append(
            {
                "seconds": total,
                "marked_s": timed.committed_at - start,
                "quotes_s": timed.quotes_s,
                "rest_s": total - timed.quotes_s,
                "updates": timed.updates,
                "marked": result.marked,
            }
        )
    with bootstrap.container().uow() as uow:
        marked = [t for t in uow.symbols.find() if t.last_price and t.symbol in held]
    return {"cycles": rows, "marked_rows": len(marked)}


def _stats(values: list[float], floor: float) -> list[Any]:
    median = statistics.median(values)
    return [median, max(values), floor, median / floor]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--rate", type=float, default=18.0, help="KIS_RATE_LIMIT")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="flushed!")
    args = parser.parse_args()
    before = print_load("load before")
    system = TradingSystem(
        redis_url=args.redis,
        postgres=None if args.sqlite else args.postgres,
        symbols=args.held,
        seed=7,
    )
    try:
        system.start()
        figures = run(system, args.held, args.cycles, args.rate)
    finally:
        system.close()
    cycles = figures["cycles"]
    requests = math.ceil(args.held / QUOTES_PER_REQUEST)
    floor = requests / args.rate
    where = f"{args.held} held, {'SQLite' if args.sqlite else 'PostgreSQL'}, {args.rate:g} req/s"
    marked = [c["marked_s"] for c in cycles]
    seconds = [c["seconds"] for c in cycles]
    updates = max(c["updates"] for c in cycles)
    goal_met = max(marked) <= GOAL_SECONDS and all(c["updates"] == 1 for c in cycles)
    rows = [
        [f"priced and marked (committed), {where}", *_stats(marked, floor), updates],
        [f"whole cycle (+ the daily-loss check), {where}", *_stats(seconds, floor), updates],
    ]
    columns = ["", "median s", "worst s", "floor s", "median / floor", "UPDATEs"]
    report(
        "prices",
        f"Price checks, {len(cycles)} cycles (goal: ≤ {GOAL_SECONDS:g} s, one UPDATE)",
        columns,
        rows,
        {**figures, "load_before": before, "floor_s": floor, "goal_met": goal_met},
    )
    print("goal met" if goal_met else "goal NOT met")
    sys.exit(0 if goal_met else 1)


if __name__ == "__main__":
    main()
