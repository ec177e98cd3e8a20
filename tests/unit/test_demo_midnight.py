"""The demo's session never crosses KST midnight: just before it, the demo waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from stock_manager.demo.plan import AUCTION_SECONDS, START_MARGIN, midnight_wait
from stock_manager.domain.clock import KST


def test_the_demo_waits_for_midnight_only_when_its_session_would_cross_it() -> None:
    noon = datetime(2026, 11, 30, 12, 0, tzinfo=KST)
    assert midnight_wait(noon, 3) == 0
    late = datetime(2026, 11, 30, 23, 57, tzinfo=KST)
    wait = midnight_wait(late, 3)
    assert wait == 3 * 60 + 1  # to one second past 00:00
    start = late + timedelta(seconds=wait)
    ends = start + START_MARGIN + timedelta(minutes=3, seconds=AUCTION_SECONDS)
    assert start.date() == ends.date()
