"""Candidate scans (every 30 s while TRADING, until the entry cutoff)."""

from __future__ import annotations

from stock_manager.bootstrap import container, process_identity
from stock_manager.celery_app import app
from stock_manager.services import market


@app.task
def scan_candidates() -> str:
    """Keep the session state current. Scanning and strategy evaluation arrive with the
    trading loop (issue 6); until then this task only advances the market state."""
    c = container()
    return market.advance(c.uow(), c.calendar, c.clock, process_identity()).state.value
