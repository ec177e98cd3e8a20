"""``stock-manager report``: the daily summary as tables, and its chart as a PNG."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.console import Console

from stock_manager.adapters.report.charts import render
from stock_manager.adapters.report.text import print_report
from stock_manager.bootstrap import container
from stock_manager.domain.clock import kst_date
from stock_manager.services.report import build_report


@click.command()
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Trading day (default: today in Asia/Seoul).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the chart (default: DATA_DIR/reports).",
)
def report(day: object, out: Path | None) -> None:
    """Show the day's PnL (fees and tax included), trades and statistics; write the chart."""
    c = container()
    trading_day: date = day.date() if day is not None else kst_date(c.clock.now())  # type: ignore[attr-defined]
    daily = build_report(c.uow(), trading_day)
    print_report(daily, Console())
    folder = out or Path(c.settings.data_dir) / "reports"
    chart = render(daily, folder / f"report-{trading_day}.png")
    click.echo(f"chart: {chart}")
