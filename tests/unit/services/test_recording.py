"""CandleRecorder: what it fetches, in what order, what it skips, and how paper degrades."""

from __future__ import annotations

from datetime import date

import pytest

from stock_manager.domain.candles import InstrumentType
from stock_manager.domain.instruments import ListingMarket
from stock_manager.services.recording import CandleRecorder, Step
from tests.fakes.candles import FakeHistory, MemoryCandleStore

MON, WED, FRI = date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 6)


def test_instrument_then_daily_per_symbol_then_minutes_day_by_day() -> None:
    history, store = FakeHistory(today_is=date(2026, 3, 10)), MemoryCandleStore()
    report = CandleRecorder(history, store).record(["A1", "B2"], MON, WED)
    assert history.calls == [
        ("instrument", "A1", None),
        ("daily", "A1", None),
        ("instrument", "B2", None),
        ("daily", "B2", None),
        *[("minute", s, d) for d in (MON, date(2026, 3, 3), WED) for s in ("A1", "B2")],
    ]
    assert (report.fetched, report.skipped, report.candles) == (10, 0, 2 * 3 + 6 * 3)
    assert store.instruments["A1"].market is ListingMarket.KOSDAQ


def test_a_rerun_fetches_nothing_and_a_wider_range_only_what_is_new() -> None:
    history, store = FakeHistory(today_is=date(2026, 3, 10)), MemoryCandleStore()
    CandleRecorder(history, store).record(["A1"], MON, WED)
    history.calls.clear()
    report = CandleRecorder(history, store).record(["A1"], MON, WED)
    assert history.calls == [] and report.skipped == 2 + 3
    CandleRecorder(history, store).record(["A1"], MON, FRI)
    assert [c for c in history.calls if c[0] == "minute"] == [
        ("minute", "A1", date(2026, 3, 5)),
        ("minute", "A1", FRI),
    ]


def test_today_and_later_are_never_recorded() -> None:
    history, store = FakeHistory(today_is=WED), MemoryCandleStore()
    CandleRecorder(history, store).record(["A1"], MON, FRI)
    assert sorted(d for d, _ in store.minutes) == [MON, date(2026, 3, 3)]
    assert [c.start.date() for c in store.daily["A1"]] == [MON, date(2026, 3, 3)]
    assert store.spans["A1"] == (MON, date(2026, 3, 3))  # a rerun tomorrow fetches Wed on


def test_a_range_of_only_today_records_nothing_and_says_so() -> None:
    history, store = FakeHistory(today_is=WED), MemoryCandleStore()
    report = CandleRecorder(history, store).record(["A1"], WED, FRI)
    assert history.calls == [] and report.warnings == [
        "nothing final in 2026-03-04..2026-03-06: today is not over"
    ]


def test_paper_keeps_daily_candles_and_warns_once() -> None:
    history = FakeHistory(
        today_is=date(2026, 3, 10), minutes_offered=False, instruments_known=False
    )
    store = MemoryCandleStore()
    steps: list[Step] = []
    report = CandleRecorder(history, store, lambda s, d, t: steps.append(s)).record(
        ["A1", "B2"], MON, WED
    )
    assert len(report.warnings) == 3  # two unknown instruments, minutes once
    assert store.instruments["A1"].instrument_type is InstrumentType.STOCK
    assert len([c for c in history.calls if c[0] == "minute"]) == 1
    assert len(store.daily["B2"]) == 3 and store.minutes == {}
    assert sum(1 for s in steps if s.kind == "minute" and s.skipped) == 6


def test_progress_counts_up_to_the_known_total() -> None:
    seen: list[tuple[int, int]] = []
    CandleRecorder(
        FakeHistory(today_is=date(2026, 3, 10)),
        MemoryCandleStore(),
        lambda step, done, total: seen.append((done, total)),
    ).record(["A1"], MON, WED)
    assert seen[-1] == (5, 5) and [d for d, _ in seen] == [1, 2, 3, 4, 5]


def test_an_inverted_range_is_refused() -> None:
    with pytest.raises(ValueError, match="after"):
        CandleRecorder(FakeHistory(today_is=FRI), MemoryCandleStore()).record(["A1"], FRI, MON)
