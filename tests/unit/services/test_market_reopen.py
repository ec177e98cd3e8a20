"""A day closed by mistake is reopened by a command, never by dropping the database (issue
14): ``reopen`` walks CLOSED -> OFFLINE -> ... -> TRADING, recorded with the reason."""

from __future__ import annotations

from datetime import datetime

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.market import MarketState
from stock_manager.services import market
from tests.fakes.ports import FakeCalendar, FakeClock
from tests.fakes.uow import FakeUnitOfWork

TEN = datetime(2026, 11, 20, 10, 0, tzinfo=KST)


def closed_day(calendar: FakeCalendar, clock: FakeClock) -> FakeUnitOfWork:
    """A day the wrong calendar (a 06:00-06:30 session) took OFFLINE -> CLOSED."""
    uow = FakeUnitOfWork()
    wrong = FakeCalendar(opens=(6, 0), closes=(6, 30))
    assert market.advance(uow, wrong, clock, "beat").state is MarketState.CLOSED
    return uow


def test_a_wrongly_closed_day_is_reopened_and_trades() -> None:
    clock, calendar = FakeClock(TEN), FakeCalendar()  # the right one: 09:00-15:20
    uow = closed_day(calendar, clock)
    assert market.advance(uow, calendar, clock).state is MarketState.CLOSED  # stuck before
    status = market.reopen(uow, calendar, clock, "SESSION_OPEN was missing", "cli")
    assert status.state is MarketState.OFFLINE
    initialized = market.advance(uow, calendar, clock, "worker", initialize=lambda: 9_000_000)
    assert initialized.state is MarketState.TRADING
    steps = [(t.from_state, t.to_state, t.event) for t in reversed(uow.audit.recent(10))]
    assert ("CLOSED", "OFFLINE", "reopen") in steps
    reopened = next(t for t in uow.audit.recent(10) if t.event == "reopen")
    assert reopened.actor == "cli" and "SESSION_OPEN was missing" in reopened.detail["reason"]


def test_a_day_the_calendar_says_is_over_is_not_reopened() -> None:
    clock = FakeClock(datetime(2026, 11, 20, 16, 0, tzinfo=KST))
    calendar = FakeCalendar()
    uow = closed_day(calendar, clock)
    with pytest.raises(market.ReopenRefused, match="over"):
        market.reopen(uow, calendar, clock, "why not", "cli")
    assert market.current(uow, clock) is MarketState.CLOSED


def test_only_a_closed_day_is_reopened() -> None:
    clock, calendar, uow = FakeClock(TEN), FakeCalendar(), FakeUnitOfWork()
    market.advance(uow, calendar, clock)
    with pytest.raises(market.ReopenRefused, match="TRADING, not CLOSED"):
        market.reopen(uow, calendar, clock, "x", "cli")


def test_initializing_again_keeps_the_days_opening_cash() -> None:
    clock, calendar, uow = FakeClock(TEN), FakeCalendar(), FakeUnitOfWork()
    market.advance(uow, calendar, clock, "worker", initialize=lambda: 10_000_000)
    with uow:  # the day trades, then a wrong close
        uow.market.save(TEN.date(), MarketState.TRADING, MarketState.CLOSED, "test")
        uow.commit()
    market.reopen(uow, calendar, clock, "wrong close", "cli")
    market.advance(uow, calendar, clock, "worker", initialize=lambda: 7_500_000)
    with uow:
        assert uow.market.opening_cash(TEN.date()) == 10_000_000  # settlement counts from it
