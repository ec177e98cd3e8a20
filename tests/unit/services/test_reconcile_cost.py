"""Issue 16 (3, 5): a reconcile whose book explains every holding takes no lease for the
opening lots and reads the day's fills once, not once per symbol."""

from __future__ import annotations

import pytest

from stock_manager.services.reconcile import reconcile
from tests.fakes.uow import FakeFills
from tests.unit.services.conftest import World
from tests.unit.services.test_isolation import SYMBOLS, hold_all


def test_a_book_that_explains_the_holdings_costs_one_read_and_no_lease(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_all(world)
    calls = {"acquire": 0, "for_day": 0}
    acquire, for_day = world.locks.acquire, FakeFills.for_day

    def counted_acquire(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["acquire"] += 1
        return acquire(*args, **kwargs)

    def counted_for_day(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["for_day"] += 1
        return for_day(self, *args, **kwargs)

    monkeypatch.setattr(world.locks, "acquire", counted_acquire)
    monkeypatch.setattr(FakeFills, "for_day", counted_for_day)
    report = reconcile(world.ctx)
    assert report.differences == ()
    assert calls == {"acquire": 0, "for_day": 1}, f"{len(SYMBOLS)} symbols"


def test_a_holding_the_book_cannot_explain_still_gets_its_opening_lot(world: World) -> None:
    hold_all(world)
    symbol = SYMBOLS[0]
    world.broker.set_holding(symbol, 15, 10_000)  # 5 shares the day's book cannot explain
    reconcile(world.ctx)
    with world.uow:
        adjustments = world.uow.adjustments.for_day(world.day)
    assert [(a.symbol, a.quantity) for a in adjustments] == [(symbol, 5)]
