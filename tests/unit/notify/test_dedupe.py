"""The deduper lets a message through once per window and counts the rest."""

from __future__ import annotations

from stock_manager.adapters.notify.dedupe import Deduper


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_repeats_within_the_window_are_held_back_and_counted() -> None:
    clock = Clock()
    d: Deduper[str] = Deduper(60, clock)

    assert d.allow("boom")
    clock.t += 10
    assert not d.allow("boom")
    clock.t += 49
    assert not d.allow("boom")

    assert d.take("boom") == 2
    assert d.take("boom") == 0


def test_the_window_restarts_when_a_key_goes_through() -> None:
    clock = Clock()
    d: Deduper[str] = Deduper(60, clock)
    d.allow("boom")
    clock.t += 60

    assert d.allow("boom")
    clock.t += 30
    assert not d.allow("boom")


def test_different_keys_do_not_suppress_each_other() -> None:
    d: Deduper[str] = Deduper(60, Clock())

    assert d.allow("a")
    assert d.allow("b")


def test_take_all_returns_every_count_and_resets() -> None:
    d: Deduper[str] = Deduper(60, Clock())
    for key in ["a", "a", "a", "b", "b"]:
        d.allow(key)

    assert d.take_all() == {"a": 2, "b": 1}
    assert not d.has_suppressed()


def test_a_zero_window_never_suppresses() -> None:
    d: Deduper[str] = Deduper(0, Clock())

    assert all(d.allow("x") for _ in range(3))


def test_pending_counts_survive_forgetting_stale_keys() -> None:
    clock = Clock()
    d: Deduper[str] = Deduper(60, clock, max_keys=2)
    d.allow("kept")
    d.allow("kept")  # one repeat pending
    d.allow("old")
    clock.t += 61
    d.allow("new")  # over the limit: stale keys without pending counts go

    assert d.take_all() == {"kept": 1}
