from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.session import (
    CutoffPolicy,
    SessionKind,
    csat_session,
    custom_session,
    first_day_session,
    regular_session,
)


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=KST)


def test_regular_session_cutoffs() -> None:
    day = date(2026, 11, 20)
    s = regular_session(day)
    assert (s.opens_at, s.continuous_ends_at, s.auction_ends_at) == (
        at(day, 9, 0),
        at(day, 15, 20),
        at(day, 15, 30),
    )
    assert s.entry_cutoff == at(day, 15, 0)
    assert s.liquidation_starts_at == at(day, 15, 10)
    assert s.hard_cut == at(day, 15, 19)


def test_first_trading_day_opens_at_ten_and_keeps_the_close() -> None:
    s = first_day_session(date(2026, 1, 2))
    assert s.kind is SessionKind.FIRST_DAY
    assert s.opens_at.hour == 10 and s.continuous_ends_at == at(date(2026, 1, 2), 15, 20)


def test_csat_day_shifts_every_cutoff_by_an_hour() -> None:
    day = date(2026, 11, 19)
    s, r = csat_session(day), regular_session(day)
    hour = timedelta(hours=1)
    assert s.opens_at - r.opens_at == hour
    assert s.entry_cutoff - r.entry_cutoff == hour
    assert s.liquidation_starts_at == at(day, 16, 10)
    assert s.hard_cut == at(day, 16, 19)
    assert s.auction_ends_at == at(day, 16, 30)


def test_entries_stop_at_the_cutoff_and_liquidation_starts_on_time() -> None:
    day = date(2026, 11, 20)
    s = regular_session(day)
    assert s.accepts_entries(at(day, 14, 59)) and not s.accepts_entries(at(day, 15, 0))
    assert not s.accepts_entries(at(day, 8, 59))
    assert not s.must_liquidate(at(day, 15, 9)) and s.must_liquidate(at(day, 15, 10))


def test_custom_compressed_session_with_scaled_cutoffs() -> None:
    opens = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
    policy = CutoffPolicy(timedelta(seconds=40), timedelta(seconds=30), timedelta(seconds=5))
    s = custom_session(opens, opens + timedelta(minutes=2), policy)
    assert s.kind is SessionKind.CUSTOM
    assert s.liquidation_starts_at == opens + timedelta(seconds=90)
    assert s.auction_ends_at == opens + timedelta(minutes=2, seconds=12)


def test_cutoff_policy_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="cut-off"):
        CutoffPolicy(timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=1))


def test_sessions_refuse_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        custom_session(datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 15))  # noqa: DTZ001
