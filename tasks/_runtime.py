"""What every task shares: the service context of this process and the retry policy."""

from __future__ import annotations

from typing import Any

from stock_manager.bootstrap import container
from stock_manager.domain.broker import BrokerRateLimited, BrokerUnavailable
from stock_manager.services.context import ServiceContext

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
