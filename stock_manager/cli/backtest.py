"""``stock-manager backtest``: recorded candles through the live trading code (docs/backtest.md)."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from stock_manager.adapters.market_data import MarketDataError
from stock_manager.backtest.grid import (
    METRICS,
    data_opener,
    grid_table,
    parse_grid,
    rank_correlation,
    run_grid,
)
from stock_manager.backtest.output import write_run
from stock_manager.backtest.parallel import run_days_parallel
from stock_manager.backtest.runner import NoData, run_days, select_days
from stock_manager.backtest.settings import Sessions, build, described, parse_pairs
from stock_manager.backtest.summary import summarize
from stock_manager.cli.output import console

DATE = click.DateTime(["%Y-%m-%d"])


@click.command()
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A market-data directory (docs/market-data.md).",
)
@click.option("--from", "start", type=DATE, default=None, help="First day (default: the first).")
@click.option("--to", "end", type=DATE, default=None, help="Last day (default: the last).")
@click.option("--strategies", default=None, help="Comma-separated names (sets STRATEGIES).")
@click.option("--symbols", default=None, help="Comma-separated symbols (default: all recorded).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A setting, repeatable.")
@click.option("--grid", "specs", multiple=True, metavar="KEY=v1,v2", help="Sweep; repeatable.")
@click.option("--metric", type=click.Choice(list(METRICS)), default="net_pnl", show_default=True)
@click.option("--in-sample", type=float, default=0.7, show_default=True, help="Grid split.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    help="Processes: days of one run, or grid combinations.",
)
@click.option("--no-chart", is_flag=True, help="Skip equity.png.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def backtest(
    data: Path,
    start: Any,
    end: Any,
    strategies: str | None,
    symbols: str | None,
    pairs: tuple[str, ...],
    specs: tuple[str, ...],
    metric: str,
    in_sample: float,
    jobs: int,
    no_chart: bool,
    out: Path,
) -> None:
    """Run the strategies over recorded minute candles with live's exit, risk, KRX-rule and
    fee code; write trades.csv, days.csv, strategies.csv, summary.json and equity.png.

    With --grid, run every combination in parallel processes and rank them by --metric on
    the first --in-sample share of the days, beside their result on the rest (grid.csv)."""
    values = parse_pairs(pairs)
    if strategies:
        values["STRATEGIES"] = strategies
    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    opener = data_opener(data, chosen)
    try:
        source = opener()
        days = select_days(source, _day(start), _day(end))
    except (MarketDataError, NoData) as exc:
        raise click.ClickException(str(exc)) from None
    settings, config = build(values)
    if specs:
        _grid(opener, values, specs, days, metric, in_sample, jobs, out)
        return
    began = time.perf_counter()
    reruns = 0
    if jobs > 1 and len(days) > 1:
        results, reruns = run_days_parallel(opener, values, days, jobs)
    else:
        results = run_days(config, source, days, Sessions(settings))
    summary = summarize(results, config.initial_cash)
    summary["run"] = {
        "data": str(data),
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "seconds": round(time.perf_counter() - began, 3),
        "jobs": jobs,
        "days_rerun": reruns,
        "settings": described(values, config),
    }
    files = write_run(out, results, summary, chart=not no_chart)
    _print(summary)
    click.echo(f"fill model: {config.fills.describe()}")
    for name, path in files.items():
        click.echo(f"{name}: {path}")


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None


def _print(summary: dict[str, Any]) -> None:
    o = summary["overall"]
    table = Table("figure", "value", title="backtest", title_justify="left")
    for key in (
        "days",
        "candles",
        "trades",
        "net_pnl",
        "commission",
        "tax",
        "win_rate",
        "profit_factor",
        "max_drawdown",
        "exposure",
        "return_pct",
    ):
        value = o[key]
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console().print(table)


def _grid(
    opener: Any,
    base: dict[str, str],
    specs: tuple[str, ...],
    days: list[date],
    metric: str,
    in_sample: float,
    jobs: int,
    out: Path,
) -> None:
    grid = parse_grid(specs)
    began = time.perf_counter()
    rows = run_grid(opener, base, grid, days, metric, in_sample, jobs)
    seconds = round(time.perf_counter() - began, 3)
    table = grid_table(rows, metric)
    out.mkdir(parents=True, exist_ok=True)
    from stock_manager.backtest.output import write_csv

    columns = list(table[0]) if table else []
    write_csv(out / "grid.csv", columns, [[r[c] for c in columns] for r in table])
    payload = {
        "metric": metric,
        "in_sample": in_sample,
        "rank_correlation": rank_correlation(rows, metric),
        "seconds": seconds,
        "jobs": jobs,
        "days": [days[0].isoformat(), days[-1].isoformat()],
        "base": base,
        "grid": grid,
        "rows": table,
    }
    (out / "grid.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    shown = Table(*columns, title=f"grid by in-sample {metric}", title_justify="left")
    for row in table:
        shown.add_row(*[str(row[c]) for c in columns])
    console().print(shown)
    click.echo(f"rank correlation in/out of sample: {payload['rank_correlation']}")
    click.echo(f"grid: {out / 'grid.csv'}  {out / 'grid.json'}  ({seconds:g} s, {jobs} jobs)")
