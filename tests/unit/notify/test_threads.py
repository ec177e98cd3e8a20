"""Incident threads are remembered for a while, then forgotten."""

from __future__ import annotations

from stock_manager.adapters.notify.threads import ThreadBook


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_remembered_thread_is_found_until_it_expires() -> None:
    clock = Clock()
    book = ThreadBook(ttl=3600, clock=clock)
    book.remember("order_unknown:42", "1700000000.000100")

    clock.t = 3599
    assert book.get("order_unknown:42") == "1700000000.000100"
    clock.t = 3600
    assert book.get("order_unknown:42") is None


def test_unknown_keys_have_no_thread() -> None:
    assert ThreadBook(ttl=10).get("nothing") is None


def test_the_oldest_threads_are_forgotten_beyond_the_limit() -> None:
    book = ThreadBook(ttl=3600, clock=Clock(), max_keys=2)
    for key in ["a", "b", "c"]:
        book.remember(key, key + "-ts")

    assert [book.get(k) for k in ["a", "b", "c"]] == [None, "b-ts", "c-ts"]
