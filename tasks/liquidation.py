"""Pre-close forced liquidation: 15:10 by beat, by the deadline guard, or by hand.

``celery -A stock_manager call tasks.liquidation.liquidate_all`` starts it now.
"""

from __future__ import annotations

from celery import Task

from stock_manager.celery_app import app
from stock_manager.services.liquidation import liquidate_round
from tasks._runtime import RETRY_READS, context


@app.task(bind=True, **RETRY_READS)
def liquidate_all(self: Task, scheduled: bool = False) -> list[str]:
    """One liquidation round; queues the next until the broker confirms flat or the hard cut."""
    ctx = context()
    report = liquidate_round(ctx, scheduled=scheduled)
    if report.ran and not report.done:
        self.apply_async(countdown=_next_round(ctx.trading.liquidation.round_interval))
    return list(report.remaining)


@app.task(bind=True, **RETRY_READS)
def liquidate_symbol(self: Task, symbol: str) -> list[str]:
    """Flatten one symbol the same way, leaving the rest of the book alone."""
    ctx = context()
    report = liquidate_round(ctx, symbol=symbol)
    if report.ran and not report.done:
        self.apply_async(
            args=[symbol], countdown=_next_round(ctx.trading.liquidation.round_interval)
        )
    return list(report.remaining)


def _next_round(interval: float) -> float:
    """Just after the round lease (TTL = interval) expires, so the chain's next round gets it."""
    return interval + 0.5
