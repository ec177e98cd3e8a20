"""The system clock, in the market's zone."""

from __future__ import annotations

from datetime import datetime

from stock_manager.domain.clock import KST


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(KST)
