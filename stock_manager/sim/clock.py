"""The simulator's clock: real wall time in KST, or a hand-driven one for unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from stock_manager.domain.clock import KST, require_aware


class Clock(Protocol):
    def now(self) -> datetime: ...


class WallClock:
    """Real time in Asia/Seoul."""

    def now(self) -> datetime:
        return datetime.now(KST)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start").astimezone(KST)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = require_aware(moment, "moment").astimezone(KST)


def hhmmss(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%H%M%S")


def yyyymmdd(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y%m%d")
