"""The daily summary and settlement (15:45), posted with its chart."""

from __future__ import annotations

from pathlib import Path

from stock_manager.adapters import task_args
from stock_manager.adapters.report.charts import render
from stock_manager.bootstrap import container
from stock_manager.celery_app import app
from stock_manager.domain.clock import kst_date
from stock_manager.ports import Notice
from stock_manager.services.report import build_report
from stock_manager.services.settlement import settle_day
from tasks._runtime import RETRY_READS, contained, context


@app.task(**RETRY_READS)
@contained
def daily_summary(day: str | None = None) -> int:
    """Settle the day, store its summary, post it with the chart; returns realized PnL."""
    asked = task_args.day(day)
    ctx = context()
    trading_day = asked or kst_date(ctx.clock.now())
    settle_day(ctx, trading_day)
    report = build_report(ctx.uow, trading_day)
    chart = render(report, Path(container().settings.data_dir) / "reports" / f"{trading_day}.png")
    s = report.summary
    ctx.notifier.send(
        Notice(
            "daily_report",
            "info",
            f"Daily report {trading_day}",
            f"realized {s.realized_pnl:+,} won, unrealized {s.unrealized_pnl:+,} won, "
            f"{s.trades} trades, fees {s.commission:,} + tax {s.tax:,} won",
            image_path=str(chart),
        )
    )
    return s.realized_pnl
