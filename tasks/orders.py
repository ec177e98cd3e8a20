"""Order and fill sync (every 3 s while orders are open)."""

from __future__ import annotations

from stock_manager.celery_app import app


@app.task
def sync_orders() -> int:
    """Not yet implemented: polling the broker's daily orders and applying fills arrives
    with the order ledger (issue 5). Returns the number of orders synced: always 0 today."""
    return 0
