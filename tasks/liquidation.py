"""Pre-close forced liquidation (15:10, by the deadline guard, or by hand)."""

from __future__ import annotations

from stock_manager.celery_app import app


@app.task
def liquidate_all(scheduled: bool = False) -> int:
    """Not yet implemented: the cancel/sell/escalate/confirm workflow arrives with the
    trading loop (issue 6). Returns the number of positions still open: unknown (-1)."""
    return -1
