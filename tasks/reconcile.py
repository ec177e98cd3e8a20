"""Position reconciliation (every 60 s and when a worker starts)."""

from __future__ import annotations

from stock_manager.adapters import task_args
from stock_manager.celery_app import app
from stock_manager.services.reconcile import reconcile
from tasks._runtime import RETRY_READS, contained, context


@app.task(**RETRY_READS)
@contained
def reconcile_positions(reason: str = "scheduled") -> int:
    """Compare the ledger with the broker, fix what the rules allow; returns differences."""
    task_args.text("tasks.reconcile.reconcile_positions", "reason", reason)
    return len(reconcile(context()).differences)
