"""Parameter sweeps: every combination of ``--grid`` values, each run in its own process,
ranked by a metric on the in-sample days and checked on the out-of-sample days after them
(a walk-forward split), so a combination that only fits its own history shows it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from stock_manager.backtest.runner import run_days
from stock_manager.backtest.settings import Sessions, build
from stock_manager.backtest.summary import summarize
from stock_manager.config import ConfigError
from stock_manager.domain.candles import Candle
from stock_manager.domain.krx import PriceLimits
from stock_manager.ports import CandleSource

# metric -> True when higher is better
METRICS: dict[str, bool] = {
    "net_pnl": True,
    "return_pct": True,
    "profit_factor": True,
    "win_rate": True,
    "max_drawdown": False,
    "trades": True,
}

OpenSource = Callable[[], CandleSource]


@dataclass(frozen=True, slots=True)
class GridRow:
    overrides: dict[str, str]  # this combination's values only
    in_sample: dict[str, Any]  # summary "overall" of the in-sample days
    out_of_sample: dict[str, Any]  # ... of the out-of-sample days (empty without any)


def combinations(grid: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """The cartesian product of ``{KEY: [v1, v2, ...]}``, keys in the given order."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def parse_grid(specs: Sequence[str]) -> dict[str, list[str]]:
    """``KEY=v1,v2,...`` strings as ``{KEY: [v1, v2, ...]}``; ``ConfigError`` if malformed."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        options = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not options:
            raise ConfigError(f"--grid: expected KEY=v1,v2,..., got {spec!r}")
        grid[key.strip().upper()] = options
    return grid


def split(days: Sequence[date], in_sample: float) -> tuple[list[date], list[date]]:
    """The first ``in_sample`` share of the days (at least one), and the rest."""
    if not 0 < in_sample <= 1:
        raise ConfigError(f"--in-sample must be in (0, 1], got {in_sample}")
    cut = max(1, min(len(days), math.floor(len(days) * in_sample + 1e-9)))
    return list(days[:cut]), list(days[cut:])


def score(overall: Mapping[str, Any], metric: str) -> float:
    """The metric as a number where higher is better (``None``: no trades, or no loss)."""
    value = overall.get(metric)
    if value is None:
        return math.inf if metric == "profit_factor" and overall.get("trades") else -math.inf
    return float(value) if METRICS[metric] else -float(value)


# -- the worker side: one data source per process -------------------------------------------
_source: CandleSource | None = None


def _open(opener: OpenSource) -> None:
    global _source
    _source = KeptCandles(opener())


class KeptCandles:
    """A :class:`CandleSource` that keeps the days it read, up to ``limit`` candles in all:
    every combination of a grid reads the same days, and building the candles is a quarter
    of a run's time (docs/benchmarks.md)."""

    def __init__(self, source: CandleSource, limit: int = 500_000) -> None:
        self.source, self.limit, self.kept = source, limit, 0
        self._days: dict[date, Mapping[str, Sequence[Candle]]] = {}

    def trading_days(self) -> Sequence[date]:
        return self.source.trading_days()

    def minute_candles(self, day: date) -> Mapping[str, Sequence[Candle]]:
        found = self._days.get(day)
        if found is None:
            found = self.source.minute_candles(day)
            size = sum(len(rows) for rows in found.values())
            if self.kept + size <= self.limit:
                self._days[day], self.kept = found, self.kept + size
        return found

    def price_limits(self, day: date) -> Mapping[str, PriceLimits]:
        return self.source.price_limits(day)


def evaluate(
    base: Mapping[str, str],
    overrides: Mapping[str, str],
    in_days: Sequence[date],
    out_days: Sequence[date],
) -> GridRow:
    """Run one combination on both halves (each from the initial cash)."""
    if _source is None:
        raise RuntimeError("no candle source in this process (grid initializer not run)")
    settings, config = build({**base, **overrides})
    sessions = Sessions(settings)
    halves = []
    for days in (in_days, out_days):
        results = run_days(config, _source, days, sessions) if days else []
        halves.append(summarize(results, config.initial_cash)["overall"] if days else {})
    return GridRow(dict(overrides), halves[0], halves[1])


def run_grid(
    opener: OpenSource,
    base: Mapping[str, str],
    grid: Mapping[str, Sequence[str]],
    days: Sequence[date],
    metric: str,
    in_sample: float = 0.7,
    jobs: int = 2,
) -> list[GridRow]:
    """Every combination, ranked best first by ``metric`` in sample. ``jobs`` processes
    (``ProcessPoolExecutor``; each opens the data once); ``jobs=1`` runs here, in order."""
    if metric not in METRICS:
        raise ConfigError(f"--metric: one of {', '.join(METRICS)}, got {metric!r}")
    combos = combinations(grid)
    for combo in combos:  # a bad value fails here, before any process starts
        build({**base, **combo})
    in_days, out_days = split(days, in_sample)
    args = [(dict(base), c, in_days, out_days) for c in combos]
    if jobs <= 1:
        _open(opener)
        rows = [evaluate(*a) for a in args]
    else:
        with ProcessPoolExecutor(jobs, initializer=_open, initargs=(opener,)) as pool:
            rows = list(pool.map(evaluate, *zip(*args, strict=True)))
    return sorted(rows, key=lambda r: score(r.in_sample, metric), reverse=True)


def rank_correlation(rows: Sequence[GridRow], metric: str) -> float | None:
    """Spearman's rank correlation of in-sample and out-of-sample scores (ties by order):
    near 1, what ranked well in sample also did out of sample; near 0 or below, overfitting."""
    pairs = [(score(r.in_sample, metric), score(r.out_of_sample, metric)) for r in rows]
    if len(pairs) < 2 or not all(r.out_of_sample for r in rows):
        return None
    n = len(pairs)
    rank_in = _ranks([p[0] for p in pairs])
    rank_out = _ranks([p[1] for p in pairs])
    d2 = sum((a - b) ** 2 for a, b in zip(rank_in, rank_out, strict=True))
    return round(1 - 6 * d2 / (n * (n * n - 1)), 4)


def _ranks(values: Sequence[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    ranks = [0] * len(values)
    for rank, index in enumerate(order, start=1):
        ranks[index] = rank
    return ranks


def grid_table(rows: Sequence[GridRow], metric: str) -> list[dict[str, Any]]:
    """One flat row per combination, in rank order, for ``grid.csv``."""
    oos_rank = dict(
        zip(
            (id(r) for r in rows),
            _ranks([score(r.out_of_sample, metric) for r in rows]),
            strict=True,
        )
    )
    table = []
    for rank, row in enumerate(rows, start=1):
        entry: dict[str, Any] = {"rank": rank, **row.overrides}
        for half, overall in (("is", row.in_sample), ("oos", row.out_of_sample)):
            for key in ("net_pnl", "return_pct", "profit_factor", "win_rate", "max_drawdown"):
                entry[f"{half}_{key}"] = overall.get(key)
            entry[f"{half}_trades"] = overall.get("trades")
        entry["oos_rank"] = oos_rank[id(row)] if row.out_of_sample else None
        table.append(entry)
    return table


def data_opener(root: Path, symbols: Sequence[str] | None) -> OpenSource:
    """A picklable opener of a market-data directory for the worker processes."""
    return _ParquetOpener(root, tuple(symbols or ()))


@dataclass(frozen=True, slots=True)
class _ParquetOpener:
    root: Path
    symbols: tuple[str, ...]

    def __call__(self) -> CandleSource:
        from stock_manager.adapters.market_data.candle_source import ParquetCandles

        return ParquetCandles(self.root, self.symbols or None)
