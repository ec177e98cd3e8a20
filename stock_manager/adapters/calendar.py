"""The KRX calendar: ``holidays.XKRX`` for closed days, a table of special sessions,
and optional overrides for compressed sessions (simulator, demo).

Closed days and the year-end closure come from ``holidays`` (pin and bump it yearly);
no library models the first-day 10:00 open or CSAT day, so they live in this table
(krx.md §1, §7). On live, ``chk-holiday`` may veto a day the table thinks is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol

import holidays

from stock_manager.domain.clock import KST
from stock_manager.domain.session import (
    CutoffPolicy,
    SessionKind,
    TradingSession,
    csat_session,
    custom_session,
    first_day_session,
    regular_session,
)

# 수능 (CSAT) days: the market opens at 10:00 and continuous trading runs to 16:20.
# 2026-11-19 was scheduled by the ministry; no KRX notice was seen (⚠, krx.md §1).
CSAT_DAYS: frozenset[date] = frozenset(
    {
        date(2021, 11, 18),
        date(2022, 11, 17),
        date(2023, 11, 16),
        date(2024, 11, 14),
        date(2025, 11, 13),
        date(2026, 11, 19),
    }
)


class SessionSource(Protocol):
    """Where a day's session comes from instead of the table (the simulator's clock)."""

    def serves(self, day: date) -> bool:
        """Whether this source decides ``day`` (the simulator knows only its own day)."""
        ...

    def session(self, day: date) -> tuple[datetime, datetime, datetime] | None:
        """Open, end of continuous trading and end of the closing auction, or ``None``."""
        ...


@lru_cache(maxsize=32)
def _closed_days(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("XKRX", years=year).keys())


class KrxCalendar:
    """Implements ``MarketCalendar``."""

    def __init__(
        self,
        cutoffs: CutoffPolicy = CutoffPolicy(),
        csat_days: Iterable[date] = CSAT_DAYS,
        override: tuple[time, time] | None = None,
        broker_check: Callable[[date], bool | None] | None = None,
        session_source: SessionSource | None = None,
    ) -> None:
        self._cutoffs = cutoffs
        self._csat = frozenset(csat_days)
        self._override = override
        self._broker_check = broker_check
        self._broker_answers: dict[date, bool | None] = {}
        self._source = session_source

    def is_trading_day(self, day: date) -> bool:
        if self._override is not None:
            return True
        if self._source is not None and self._source.serves(day):
            return self.session(day) is not None
        if day.weekday() >= 5 or day in _closed_days(day.year):
            return False
        return self._broker_says_open(day)

    def session(self, day: date) -> TradingSession | None:
        """``SESSION_OPEN``/``SESSION_CLOSE`` if set; else the simulator's session for the
        day it trades (``session_source``); else the KRX table. A custom session whose
        cut-off leads do not fit gets leads in proportion (``CutoffPolicy.fitted``)."""
        if self._override is not None:
            opens, closes = self._override
            start = datetime.combine(day, opens, tzinfo=KST)
            end = datetime.combine(day, closes, tzinfo=KST)
            return custom_session(start, end, self._cutoffs.fitted(end - start))
        if self._source is not None and self._source.serves(day):
            return self._source_session(self._source, day)
        if not self.is_trading_day(day):
            return None
        if day in self._csat:
            return csat_session(day, self._cutoffs)
        if day == self.first_trading_day(day.year):
            return first_day_session(day, self._cutoffs)
        return regular_session(day, self._cutoffs)

    def _source_session(self, source: SessionSource, day: date) -> TradingSession | None:
        times = source.session(day)
        if times is None:
            return None
        opens, ends, auction = times
        cutoffs = self._cutoffs.fitted(ends - opens)
        return TradingSession(day, SessionKind.CUSTOM, opens, ends, auction, cutoffs)

    def first_trading_day(self, year: int) -> date:
        day = date(year, 1, 1)
        while day.weekday() >= 5 or day in _closed_days(year):
            day += timedelta(days=1)
        return day

    def next_trading_day(self, after: date) -> date:
        day = after + timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def _broker_says_open(self, day: date) -> bool:
        """Ask the broker (``chk-holiday``) at most once per day; no answer means open."""
        if self._broker_check is None:
            return True
        if day not in self._broker_answers:
            self._broker_answers[day] = self._broker_check(day)
        return self._broker_answers[day] is not False
