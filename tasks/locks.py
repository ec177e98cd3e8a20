"""The lock-TTL sweep (every 30 s)."""

from __future__ import annotations

from stock_manager.bootstrap import container
from stock_manager.celery_app import app
from stock_manager.services.sweep import sweep_locks as sweep


@app.task
def sweep_locks() -> int:
    """Release expired symbol leases and record each in the recovery log."""
    c = container()
    return len(sweep(c.lease_lock, c.uow(), c.clock).released)
