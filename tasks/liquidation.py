"""Pre-close forced liquidation: 15:10 by beat, by the deadline guard, or by hand.

``celery -A stock_manager call tasks.liquidation.liquidate_all`` starts it now.
"""

from __future__ import annotations

import time

from celery import Task

from stock_manager.adapters import task_args
from stock_manager.celery_app import app
from stock_manager.services.liquidation import liquidate_round
from tasks._runtime import RETRY_READS, contained, context


@app.task(bind=True, **RETRY_READS)
@contained
def liquidate_all(self: Task, scheduled: bool = False) -> list[str]:
    """One liquidation round; queues the next until the broker confirms flat or the hard cut."""
    on_schedule = task_args.flag("tasks.liquidation.liquidate_all", "scheduled", scheduled)
    ctx = context()
    started = time.monotonic()
    report = liquidate_round(ctx, scheduled=on_schedule)
    if report.ran and not report.done:
        interval = ctx.trading.liquidation.round_interval
        self.apply_async(countdown=_next_round(interval, time.monotonic() - started))
    return list(report.remaining)


@app.task(bind=True, **RETRY_READS)
@contained
def liquidate_symbol(self: Task, symbol: str) -> list[str]:
    """Flatten one symbol the same way, leaving the rest of the book alone."""
    symbol = task_args.symbol("tasks.liquidation.liquidate_symbol", symbol)
    ctx = context()
    started = time.monotonic()
    report = liquidate_round(ctx, symbol=symbol)
    if report.ran and not report.done:
        interval = ctx.trading.liquidation.round_interval
        self.apply_async(args=[symbol], countdown=_next_round(interval, time.monotonic() - started))
    return list(report.remaining)


def _next_round(interval: float, elapsed: float) -> float:
    """Half a second after the round lease expires, so the chain's next round gets it.

    The lease (TTL = interval) was taken as the round began, ``elapsed`` seconds ago: rounds
    start ``interval`` (+ 0.5 s) apart, and a round that outlasted that (a hundred sells at
    the rate limit) is followed at once rather than after a further full interval."""
    return max(interval + 0.5 - elapsed, 0.0)
