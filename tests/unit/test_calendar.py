"""The KRX calendar of 2026: closed days, the first day's late open, CSAT day, year end."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from stock_manager.adapters.calendar import KrxCalendar
from stock_manager.domain.clock import KST
from stock_manager.domain.session import SessionKind

CAL = KrxCalendar()
CLOSED_2026 = [
    date(2026, 1, 1),
    date(2026, 2, 16),
    date(2026, 2, 17),
    date(2026, 2, 18),
    date(2026, 3, 2),
    date(2026, 5, 1),
    date(2026, 5, 5),
    date(2026, 5, 25),
    date(2026, 6, 3),
    date(2026, 7, 17),
    date(2026, 8, 17),
    date(2026, 9, 24),
    date(2026, 9, 25),
    date(2026, 10, 5),
    date(2026, 10, 9),
    date(2026, 12, 25),
    date(2026, 12, 31),
]


@pytest.mark.parametrize("day", CLOSED_2026, ids=str)
def test_2026_closed_weekdays(day: date) -> None:
    assert day.weekday() < 5
    assert not CAL.is_trading_day(day)
    assert CAL.session(day) is None


def test_local_election_and_constitution_day_are_closed() -> None:
    assert not CAL.is_trading_day(date(2026, 6, 3))  # missing from exchange_calendars 4.13
    assert not CAL.is_trading_day(date(2026, 7, 17))  # a holiday again from 2026


def test_weekends_are_closed_and_an_ordinary_day_is_regular() -> None:
    assert not CAL.is_trading_day(date(2026, 11, 21))
    session = CAL.session(date(2026, 11, 20))
    assert session is not None
    assert session.kind is SessionKind.REGULAR
    assert session.entry_cutoff.time() == time(15, 0)
    assert session.liquidation_starts_at.time() == time(15, 10)
    assert session.hard_cut.time() == time(15, 19)


def test_the_first_trading_day_opens_at_ten() -> None:
    assert CAL.first_trading_day(2026) == date(2026, 1, 2)
    session = CAL.session(date(2026, 1, 2))
    assert session is not None
    assert session.kind is SessionKind.FIRST_DAY
    assert session.opens_at.time() == time(10, 0)
    assert session.liquidation_starts_at.time() == time(15, 10)  # the close is unchanged


def test_csat_day_shifts_every_cutoff() -> None:
    session = CAL.session(date(2026, 11, 19))
    assert session is not None
    assert session.kind is SessionKind.CSAT
    assert (session.opens_at.time(), session.continuous_ends_at.time()) == (time(10), time(16, 20))
    assert session.entry_cutoff.time() == time(16, 0)
    assert session.liquidation_starts_at.time() == time(16, 10)
    assert session.hard_cut.time() == time(16, 19)
    assert not session.must_liquidate(datetime(2026, 11, 19, 15, 10, tzinfo=KST))


def test_no_trading_on_the_year_end_closure() -> None:
    assert not CAL.is_trading_day(date(2026, 12, 31))
    assert CAL.next_trading_day(date(2026, 12, 30)) == date(2027, 1, 4)


def test_the_broker_can_veto_a_day_and_is_asked_once() -> None:
    asked: list[date] = []

    def broker(day: date) -> bool | None:
        asked.append(day)
        return day != date(2026, 11, 20)

    cal = KrxCalendar(broker_check=broker)
    assert not cal.is_trading_day(date(2026, 11, 20))
    assert not cal.is_trading_day(date(2026, 11, 20))
    assert cal.is_trading_day(date(2026, 11, 23))
    assert asked == [date(2026, 11, 20), date(2026, 11, 23)]


def test_no_answer_from_the_broker_leaves_the_table_in_charge() -> None:
    assert KrxCalendar(broker_check=lambda day: None).is_trading_day(date(2026, 11, 20))


def test_a_compressed_session_overrides_the_times() -> None:
    cal = KrxCalendar(override=(time(14, 0), time(14, 3)))
    session = cal.session(date(2026, 11, 21))  # even on a Saturday: the demo's day
    assert session is not None
    assert session.kind is SessionKind.CUSTOM
    assert session.continuous_ends_at.time() == time(14, 3)
