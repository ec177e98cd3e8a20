"""What every task shares: the service context of this process and the retry policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stock_manager.bootstrap import container
from stock_manager.domain.broker import BrokerRateLimited, BrokerUnavailable
from stock_manager.services.context import ServiceContext
from stock_manager.services.entry import EntryPlan
from stock_manager.services.prices import ExitPlan

# Reads that failed for a passing reason are retried; orders never are (the ledger decides).
RETRY_READS: dict[str, Any] = {
    "autoretry_for": (BrokerUnavailable, BrokerRateLimited),
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 3,
}


def context() -> ServiceContext:
    return container().context()


def send_entries(app: Any, plans: Iterable[EntryPlan], expires: float) -> None:
    """Fan out entries. A plan is stale once the next scan has run: it expires, so a late
    (or redelivered) message can never open a new trade from yesterday's signal."""
    for p in plans:
        app.send_task(
            "tasks.orders.enter",
            expires=expires,
            args=[p.symbol, p.quantity, p.price, p.order_type.code, p.strategy, p.reason],
        )


def send_exits(app: Any, plans: Iterable[ExitPlan], expires: float = 10.0) -> None:
    """Fan out exits; the price checks plan them again every 2 s, so a stale one expires."""
    for p in plans:
        app.send_task(
            "tasks.orders.exit", expires=expires, args=[p.symbol, p.reason.value, p.detail]
        )
