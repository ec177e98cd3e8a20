"""The tests' clock never lets a run's half-hour sessions cross KST midnight."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from stock_manager.domain.clock import KST
from tests.clock_shift import run_shift

RUN = timedelta(hours=2)  # longer than any test command, CI included
SESSION = timedelta(minutes=31)  # the longest "opened a minute ago" session a test trades


def test_no_start_minute_lets_a_session_cross_midnight() -> None:
    midnight = datetime(2026, 11, 30, tzinfo=KST)
    for minute in range(24 * 60):
        start = midnight + timedelta(minutes=minute)
        moved = start + run_shift(start)
        for late in (moved - timedelta(minutes=1), moved + RUN + SESSION):
            assert late.date() == moved.date(), f"a run starting {start:%H:%M} crosses midnight"


def test_days_and_a_chosen_time_of_day_add_up() -> None:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=KST)
    assert run_shift(start, days=365) == timedelta(days=365)
    assert run_shift(start, time_of_day="13:30") == timedelta(minutes=90)
    moved = start + run_shift(start, time_of_day="23:50")  # near midnight: moved ahead
    assert moved.date() == date(2026, 12, 1) and moved.hour == 3
