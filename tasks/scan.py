"""Candidate scans (every 30 s): entries until the cutoff, strategy exits all session."""

from __future__ import annotations

from stock_manager.celery_app import app
from stock_manager.services import scan
from stock_manager.services.health import dead_man_check
from stock_manager.services.liquidation import liquidation_due
from stock_manager.services.session import advance_day
from tasks._runtime import RETRY_READS, context


@app.task(**RETRY_READS)
def scan_candidates() -> int:
    """Scan, fan out the planned entries and strategy exits; returns entries planned."""
    ctx = context()
    advance_day(ctx)
    dead_man_check(ctx)
    result = scan.scan(ctx)
    for plan in result.plans:
        app.send_task(
            "tasks.orders.enter",
            args=[
                plan.symbol,
                plan.quantity,
                plan.price,
                plan.order_type.code,
                plan.strategy,
                plan.reason,
            ],
        )
    for exit_plan in scan.strategy_exits(ctx):
        app.send_task(
            "tasks.orders.exit", args=[exit_plan.symbol, exit_plan.reason.value, exit_plan.detail]
        )
    if liquidation_due(ctx):
        app.send_task("tasks.liquidation.liquidate_all")
    return len(result.plans)
