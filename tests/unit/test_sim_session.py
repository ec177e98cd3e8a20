"""With ``KIS_ENV=sim`` the day is the simulator's (issue 14): the calendar takes the session
from ``GET /_sim/clock``, fits the default cut-offs to a short one, and never closes a day
because the simulator did not answer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from stock_manager.adapters.calendar import KrxCalendar
from stock_manager.adapters.sim_session import SimSessionSource
from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.domain.session import CutoffPolicy, SessionKind
from stock_manager.services.market import target_state

SATURDAY = date(2026, 11, 28)  # closed in the KRX table; the simulator trades anyway


def clock_reply(day: date, opens: str, ends: str, auction: str) -> dict[str, Any]:
    at = {k: f"{day}T{v}+09:00" for k, v in (("o", opens), ("e", ends), ("a", auction))}
    return {
        "now": at["o"],
        "session": {
            "day": day.isoformat(),
            "opens_at": at["o"],
            "continuous_ends_at": at["e"],
            "auction_ends_at": at["a"],
        },
    }


class FakeSim:
    def __init__(self, reply: dict[str, Any] | None) -> None:
        self.reply, self.calls, self.now = reply, 0, 0.0

    def fetch(self, url: str, timeout: float) -> dict[str, Any]:
        self.calls += 1
        if self.reply is None:
            raise httpx.ConnectError("refused")
        return self.reply

    def source(self) -> SimSessionSource:
        return SimSessionSource("http://sim:1", fetch=self.fetch, monotonic=lambda: self.now)


def test_the_session_is_the_simulators_even_on_a_saturday() -> None:
    sim = FakeSim(clock_reply(SATURDAY, "14:00:00", "14:05:00", "14:05:10"))
    session = KrxCalendar(session_source=sim.source()).session(SATURDAY)
    assert session is not None and session.kind is SessionKind.CUSTOM
    assert session.opens_at == datetime(2026, 11, 28, 14, 0, tzinfo=KST)
    assert session.auction_ends_at == datetime(2026, 11, 28, 14, 5, 10, tzinfo=KST)
    # a 5-minute day: entries until 60 %, liquidation from 72 %, hard cut 15 s before the end
    assert session.entry_cutoff == session.opens_at + timedelta(minutes=3)
    assert session.liquidation_starts_at == session.opens_at + timedelta(seconds=216)
    assert session.hard_cut == session.continuous_ends_at - timedelta(seconds=15)


def test_during_the_simulators_day_the_market_trades_not_closes() -> None:
    sim = FakeSim(clock_reply(SATURDAY, "14:00:00", "14:05:00", "14:05:10"))
    session = KrxCalendar(session_source=sim.source()).session(SATURDAY)
    at = datetime(2026, 11, 28, 14, 1, tzinfo=KST)
    assert target_state(session, at) is MarketState.TRADING


def test_an_unreachable_simulator_gives_no_session_not_a_closed_day() -> None:
    sim = FakeSim(None)
    calendar = KrxCalendar(session_source=sim.source())
    today = datetime.now(KST).date()
    assert calendar.session(today) is None
    assert target_state(None, datetime.now(KST)) is MarketState.OFFLINE


def test_answers_are_kept_for_the_ttl() -> None:
    sim = FakeSim(clock_reply(SATURDAY, "09:00:00", "15:20:00", "15:30:00"))
    source = sim.source()
    for _ in range(5):
        source.session(SATURDAY)
    assert sim.calls == 1
    sim.now += 6
    source.session(SATURDAY)
    assert sim.calls == 2


def test_days_the_simulator_does_not_trade_come_from_the_table() -> None:
    sim = FakeSim(clock_reply(SATURDAY, "09:00:00", "15:20:00", "15:30:00"))
    calendar = KrxCalendar(session_source=sim.source())
    monday = date(2026, 11, 30)
    if monday != datetime.now(KST).date():
        session = calendar.session(monday)
        assert session is not None and session.kind is SessionKind.REGULAR
    assert not calendar.is_trading_day(date(2026, 11, 29))  # a Sunday the simulator is not on


@pytest.mark.parametrize("minutes", [0.5, 3, 30, 200])
def test_default_cutoffs_fit_any_short_session_in_order(minutes: float) -> None:
    span = timedelta(minutes=minutes)
    fitted = CutoffPolicy().fitted(span)
    assert fitted.fits(span)
    assert fitted.entry_cutoff_lead >= fitted.liquidation_lead > fitted.hard_cut_lead > timedelta()


def test_cutoffs_that_fit_are_kept() -> None:
    assert CutoffPolicy().fitted(timedelta(hours=6)) == CutoffPolicy()


def test_a_short_override_session_gets_fitted_cutoffs() -> None:
    from datetime import time

    calendar = KrxCalendar(override=(time(10), time(10, 5)))
    session = calendar.session(SATURDAY)
    assert session is not None and session.opens_at < session.entry_cutoff
