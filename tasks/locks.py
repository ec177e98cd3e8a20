"""The lease sweep (every 30 s)."""

from __future__ import annotations

from stock_manager.celery_app import app
from stock_manager.services.health import dead_man_check
from stock_manager.services.sweep import sweep_locks as sweep
from tasks._runtime import RETRY_READS, contained, context


@app.task(**RETRY_READS)
@contained
def sweep_locks() -> int:
    """Recover abandoned symbols, release expired leases, mark dead workers."""
    ctx = context()
    dead_man_check(ctx)
    result = sweep(ctx)
    return len(result.released) + len(result.recovered)
