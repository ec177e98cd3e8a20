"""``stock-manager kis candles``: record minute and daily candles into a market-data directory.

Goes through the same KIS client, shared token and rate limiter as the workers, in the
lowest-priority lane (SCAN), so a download during trading never delays an order. Resumable:
rerun the same command after an interruption (docs/market-data.md, "manifest.json").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import click

from stock_manager.cli.output import emit_json
from stock_manager.ports import Lane, using_lane
from stock_manager.services.recording import CandleRecorder, RecordingReport, Step


def _day(value: datetime | None, default: date) -> date:
    return value.date() if value else default


@click.command("candles")
@click.argument("symbols", nargs=-1, required=True)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option(
    "--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day [default: yesterday]."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Market-data directory (created; resumed if it exists).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def candles(
    symbols: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    out: Path,
    as_json: bool,
) -> None:
    """Download SYMBOLS' daily and minute candles and instrument facts into OUT.

    --from defaults to 30 days before --to. Today is never recorded: its candles are forming.
    """
    from stock_manager.adapters.kis.history import KisCandleHistory
    from stock_manager.adapters.kis.rest import KisRestClient
    from stock_manager.adapters.market_data.schema import MarketDataError, check_symbol
    from stock_manager.adapters.market_data.store import MarketDataStore
    from stock_manager.bootstrap import container

    codes = [s.strip().upper() for s in symbols]
    try:
        for code in codes:
            check_symbol(code)
        store = MarketDataStore(out, source={})
    except MarketDataError as exc:
        raise click.ClickException(str(exc)) from exc
    http = container().kis
    history = KisCandleHistory(KisRestClient(http))
    last = _day(end, history.today() - timedelta(days=1))
    first = _day(start, last - timedelta(days=30))
    store.manifest.source.update({"env": http.env.name, "url": http.env.rest_url})
    recorder = CandleRecorder(history, store, progress=None if as_json else _print_step)
    with using_lane(Lane.SCAN):
        try:
            report = recorder.record(codes, first, last)
        except ValueError as exc:  # an inverted range
            raise click.BadParameter(str(exc)) from exc
    if as_json:
        emit_json(report)
        return
    _print_summary(report, out)


def _print_step(step: Step, done: int, total: int) -> None:
    if step.skipped:
        return
    what = f"{step.kind} {step.symbol}" + (f" {step.day}" if step.day else "")
    click.echo(f"[{done}/{total}] {what}: {step.candles} candles", err=True)


def _print_summary(report: RecordingReport, out: Path) -> None:
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(
        f"{out}: fetched {report.fetched}, already complete {report.skipped}, "
        f"{report.candles:,} candles written"
    )
