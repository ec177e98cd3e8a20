"""The daily summary (15:45)."""

from __future__ import annotations

from datetime import date

from stock_manager.bootstrap import container
from stock_manager.celery_app import app
from stock_manager.domain.clock import kst_date
from stock_manager.services.summary import daily_summary as summarize


@app.task
def daily_summary(day: str | None = None) -> int:
    """Compute and store the day's PnL summary; returns the realized PnL in won."""
    c = container()
    trading_day = date.fromisoformat(day) if day else kst_date(c.clock.now())
    return summarize(c.uow(), trading_day).realized_pnl
