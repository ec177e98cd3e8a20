"""Shared output for benchmarks: a table on the terminal and a JSON file of the figures."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"
INTERLEAVED_WARMUP = 50


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def interleaved(
    ops: dict[str, Callable[[], object]], runs: int, samples: int
) -> dict[str, list[list[float]]]:
    """Seconds per call of each operation, per run: ``{name: [[run 1 samples], ...]}``."""
    names = list(ops)
    for _ in range(INTERLEAVED_WARMUP):
        for name in names:
            ops[name]()
    result: dict[str, list[list[float]]] = {name: [] for name in names}
    for _ in range(runs):
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(samples):
            k = i % len(names)
            for name in names[k:] + names[:k]:  # rotate: nobody always goes first
                start = time.perf_counter()
                ops[name]()
                times[name].append(time.perf_counter() - start)
        for name in names:
            result[name].append(times[name])
    return result


def load() -> dict[str, Any]:
    """The load the machine was under: 1/5/15-minute load averages and the cores."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)], "cores": os.cpu_count()}


def print_load(when: str = "load") -> dict[str, Any]:
    """Print and return :func:`load`; every benchmark calls it before and after it runs."""
    now = load()
    avg = " ".join(f"{x:.2f}" for x in now["loadavg"])
    print(f"{when}: loadavg {avg} on {now['cores']} cores")
    return now


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max of per-run figures (a p99 per run, say)."""
    if not values:
        return {}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def report(
    name: str, title: str, columns: list[str], rows: list[list[Any]], figures: dict[str, Any]
) -> Path:
    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    Console(width=160).print(table)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "load_after": print_load("load after"),
        "columns": columns,
        "rows": rows,
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")
    return path
