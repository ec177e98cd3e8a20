"""Candidate scans (every 30 s): entries until the cutoff, strategy exits all session."""

from __future__ import annotations

from stock_manager.bootstrap import container
from stock_manager.celery_app import app
from stock_manager.services import scan
from stock_manager.services.health import dead_man_check
from stock_manager.services.liquidation import liquidation_due
from stock_manager.services.session import advance_day
from tasks._runtime import RETRY_READS, contained, context, send_entries, send_exits


@app.task(**RETRY_READS)
@contained
def scan_candidates() -> int:
    """Scan, fan out the planned entries and strategy exits; returns entries planned."""
    ctx = context()
    advance_day(ctx)
    dead_man_check(ctx)
    result = scan.scan(ctx)
    send_entries(app, result.plans, expires=container().settings.scan_interval)
    send_exits(app, scan.strategy_exits(ctx))
    if liquidation_due(ctx):
        app.send_task("tasks.liquidation.liquidate_all")
    return len(result.plans)
