"""The outbox never blocks: when full it sheds the least important notices."""

from __future__ import annotations

import threading

from stock_manager.adapters.notify.outbox import Outbox

RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def box(capacity: int) -> Outbox[tuple[str, int]]:
    return Outbox(capacity, lambda item: RANK[item[0]])


def drain(outbox: Outbox[tuple[str, int]]) -> list[tuple[str, int]]:
    outbox.close()
    items = []
    while (item := outbox.get()) is not None:
        items.append(item)
        outbox.done()
    return items


def test_items_come_out_in_order() -> None:
    outbox = box(10)
    for i in range(3):
        outbox.put(("info", i))

    assert drain(outbox) == [("info", 0), ("info", 1), ("info", 2)]


def test_a_full_outbox_drops_its_oldest_info_for_anything_new() -> None:
    outbox = box(3)
    outbox.put(("info", 0))
    outbox.put(("error", 1))
    outbox.put(("info", 2))

    assert outbox.put(("warning", 3))

    assert drain(outbox) == [("error", 1), ("info", 2), ("warning", 3)]
    assert outbox.total_dropped == 1


def test_a_full_outbox_of_errors_refuses_a_new_info() -> None:
    outbox = box(2)
    outbox.put(("error", 0))
    outbox.put(("error", 1))

    assert not outbox.put(("info", 2))
    assert outbox.put(("critical", 3))  # replaces the oldest error

    assert drain(outbox) == [("error", 1), ("critical", 3)]
    assert outbox.take_dropped() == 2
    assert outbox.take_dropped() == 0


def test_a_closed_outbox_refuses_and_drains() -> None:
    outbox = box(5)
    outbox.put(("info", 0))
    outbox.close()

    assert not outbox.put(("info", 1))
    assert outbox.get() == ("info", 0)
    outbox.done()
    assert outbox.get() is None


def test_join_waits_for_items_in_flight() -> None:
    outbox = box(5)
    outbox.put(("info", 0))
    item = outbox.get()

    assert item is not None and not outbox.join(0.01)  # taken but not done
    threading.Timer(0.02, outbox.done).start()
    assert outbox.join(2.0)


def test_put_never_blocks_even_when_no_one_consumes() -> None:
    outbox = box(10)

    results = [outbox.put(("info", i)) for i in range(1000)]

    assert results.count(True) == 1000  # each new info displaces the oldest
    assert len(outbox) == 10 and outbox.total_dropped == 990
