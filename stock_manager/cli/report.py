"""``stock-manager report``: the daily summary as tables, and its chart as a PNG.

A day that is over but was never settled (the 15:45 ``daily_summary`` did not run: no beat,
a failover at that minute) is settled here first, against the broker's D+2 cash: the report
never shows a day without its settlement while the broker can still be asked (issue 14).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from stock_manager.adapters.report.charts import render
from stock_manager.adapters.report.text import print_report
from stock_manager.bootstrap import Container, container
from stock_manager.cli.output import console, emit_json
from stock_manager.domain.clock import kst_date
from stock_manager.domain.market import MarketState
from stock_manager.services.report import build_report
from stock_manager.services.settlement import settle_day


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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report(day: object, out: Path | None, as_json: bool) -> None:
    """Show the day's PnL (fees and tax included), trades and statistics; write the chart."""
    c = container()
    today = kst_date(c.clock.now())
    trading_day: date = day.date() if day is not None else today  # type: ignore[attr-defined]
    note = _settle_if_due(c, trading_day, today)
    daily = build_report(c.uow(), trading_day)
    folder = out or Path(c.settings.data_dir) / "reports"
    chart = render(daily, folder / f"report-{trading_day}.png")
    if as_json:
        emit_json({"report": daily, "chart": str(chart), "note": note})
        return
    print_report(daily, console())
    if note:
        click.echo(note)
    click.echo(f"chart: {chart}")


def _settle_if_due(c: Container, day: date, today: date) -> str:
    """Settle ``day`` if it is over and unsettled; say why not when it cannot be."""
    with c.uow() as uow:
        if uow.reports.settlement(day) is not None:
            return ""
        state = uow.market.get(day)
    if day != today:
        return "not settled: the broker's D+2 cash of a past day cannot be read any more"
    if state is not MarketState.CLOSED:
        return f"not settled yet: the market is {state.value} (settlement follows the close)"
    settle_day(c.context(), day)
    return "settled now: the daily summary had not run"
