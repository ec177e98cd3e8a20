"""Backtest throughput end to end, and the speed-up of days and grids with processes.

(a) **Throughput.** ``stock-manager backtest`` as a user runs it (a new process: start-up,
    Parquet reads, the engine, every output file and the PNG) over ``--symbols`` x
    ``--days`` of generated minute candles (``adapters/market_data/synthetic.py``, the
    closing call's candle included: 381 a day), once with ``--jobs 1`` and once with
    ``--jobs 2`` (days in parallel processes), interleaved ``--repeat`` times. Goal: 30 x 250
    under 60 s on this 2-core machine. Both runs must give the same summary.
(b) **Grid.** ``--grid`` with ``--combos`` combinations over ``--grid-days`` days, ``--jobs 1``
    against ``--jobs 2`` (one process per combination at a time).

The ceiling for both speed-ups is measured before and after: a pure-Python loop once in one
process, then twice in two processes at once; on a shared machine a second process adds
only what the neighbours leave of the second core.

Wall time, CPU time of the command and its children (``RUSAGE_CHILDREN``) and the 1-minute
load average before and after each run are printed side by side: on a shared machine the
wall time says as much about the neighbours as about us; CPU seconds do not.

    .venv/bin/python -m benchmarks.bench_backtest [--symbols 30] [--days 250] [--repeat 1]
        [--grid-days 40] [--combos 4] [--data DIR] [--skip-a] [--skip-b]

Prints tables and writes ``benchmarks/results/backtest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report
from stock_manager.adapters.market_data.synthetic import generate

COMMAND = [sys.executable, "-m", "stock_manager", "backtest"]
GOAL_SECONDS = 60.0


def timed(args: list[str], work: Path) -> dict[str, Any]:
    """Run the CLI once; wall and CPU seconds, load before and after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    done = subprocess.run(  # the checkout is not the cwd: -m imports the installed code
        [*COMMAND, *args], cwd=work, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"backtest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load_before": load, "load_after": os.getloadavg()[0]}


def throughput(data: Path, work: Path, repeat: int) -> tuple[list[list[Any]], dict[str, Any]]:
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    summaries: dict[int, Any] = {}
    for index in range(repeat):
        for jobs in (1, 2):
            out = work / f"run-{jobs}-{index}"
            figures = timed(["--data", str(data), "--out", str(out), "--jobs", str(jobs)], work)
            summary = json.loads((out / "summary.json").read_text())
            figures["candles"] = summary["overall"]["candles"]
            summaries[jobs] = summary["overall"]
            runs[jobs].append(figures)
            print(f"jobs={jobs}: {figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU, "
                  f"load {figures['load_before']:.1f}", flush=True)  # fmt: skip
    if summaries[1] != summaries[2]:
        raise SystemExit("--jobs 1 and --jobs 2 gave different summaries")
    rows, medians = [], {}
    for jobs, samples in runs.items():
        wall = statistics.median(s["wall"] for s in samples)
        cpu = statistics.median(s["cpu"] for s in samples)
        medians[jobs] = wall
        candles = samples[0]["candles"]
        loads = f"{samples[0]['load_before']:.1f} -> {samples[-1]['load_after']:.1f}"
        rows.append([f"--jobs {jobs}", candles, wall, cpu, candles / wall, candles / cpu, loads])
    for row, jobs in zip(rows, runs, strict=True):
        row.append(medians[1] / medians[jobs])
    figures = {
        "runs": runs,
        "trades": summaries[1]["trades"],
        "goal_seconds": GOAL_SECONDS,
        "best_wall": min(medians.values()),
    }
    return rows, figures


def grid(data: Path, work: Path, days: int, combos: int) -> tuple[list[list[Any]], dict[str, Any]]:
    values = ",".join(str(v) for v in (1, 2, 3, 4, 5, 6, 7, 8)[:combos])
    args = ["--data", str(data), "--grid", f"STOP_LOSS_PCT={values}", "--in-sample", "0.5"]
    last = sorted(p.stem for p in (data / "minute").glob("*.parquet"))[days - 1]
    args += ["--to", last]
    rows, runs = [], {}
    for jobs in (1, 2):
        out = work / f"grid-{jobs}"
        figures = timed([*args, "--jobs", str(jobs), "--out", str(out)], work)
        runs[jobs] = figures
        table = json.loads((out / "grid.json").read_text())["rows"]
        figures["ranking"] = [r["STOP_LOSS_PCT"] for r in table]
        print(f"grid jobs={jobs}: {figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU",
              flush=True)  # fmt: skip
    if runs[1]["ranking"] != runs[2]["ranking"]:
        raise SystemExit("the grid ranked differently with 1 and 2 processes")
    for jobs, f in runs.items():
        loads = f"{f['load_before']:.1f} -> {f['load_after']:.1f}"
        rows.append([f"--jobs {jobs}", combos, f["wall"], f["cpu"], loads,
                     runs[1]["wall"] / f["wall"]])  # fmt: skip
    return rows, {"runs": runs, "days": days}


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def ceiling(n: int = 30_000_000) -> dict[str, float]:
    """What a second process can add right now: the same pure-Python loop once in one
    process, then twice in two at once (the reference the speed-ups are read against)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1_000, 1_000]))  # start both workers first
        began = time.perf_counter()
        pool.submit(_spin, n).result()
        one = time.perf_counter() - began
        began = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        two = time.perf_counter() - began
    return {"one_s": one, "two_s": two, "speed_up": 2 * one / two}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=30)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--grid-days", type=int, default=40)
    parser.add_argument("--combos", type=int, default=4)
    parser.add_argument("--data", type=Path, help="Reuse (or keep) the generated data here.")
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    args = parser.parse_args()
    print(f"load at start {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as folder:
        work = Path(folder)
        data = args.data or work / "data"
        if not (data / "manifest.json").exists():
            began = time.perf_counter()
            generate(data, args.symbols, args.days)
            print(f"generated {args.symbols} x {args.days} days in "
                  f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
        figures: dict[str, Any] = {"symbols": args.symbols, "days": args.days}
        figures["ceiling_before"] = ceiling()
        print(f"a second process adds {figures['ceiling_before']['speed_up']:.2f}x now "
              "(the same loop in 1 and in 2 processes)", flush=True)  # fmt: skip
        if not args.skip_a:
            rows, figures["throughput"] = throughput(data, work, args.repeat)
            report(
                "backtest",
                f"(a) backtest end to end, {args.symbols} symbols x {args.days} days "
                f"(goal < {GOAL_SECONDS:g} s)",
                ["run", "candles", "wall s", "CPU s", "c/s", "c/CPU s", "load", "speed-up"],
                rows,
                figures,
            )  # fmt: skip
        if not args.skip_b:
            rows, figures["grid"] = grid(data, work, args.grid_days, args.combos)
            report(
                "backtest_grid",
                f"(b) grid of {args.combos} combinations over {args.grid_days} days",
                ["run", "combinations", "wall s", "CPU s", "load", "speed-up"],
                rows,
                figures,
            )
        after = ceiling()
        print(f"a second process adds {after['speed_up']:.2f}x at the end")
    print(f"load at end {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
