"""The system clock, in the market's zone."""

from __future__ import annotations

import time
from datetime import datetime

from stock_manager.domain.clock import KST

# CLOCK_BOOTTIME keeps counting while the machine sleeps, as the lease servers' clocks do.
_STEADY = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(KST)

    def monotonic(self) -> float:
        return time.clock_gettime(_STEADY)
