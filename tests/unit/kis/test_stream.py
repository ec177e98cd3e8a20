"""The stream process: what it subscribes and exactly what it forwards to Celery."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from stock_manager.adapters.kis.stream import (
    CelerySender,
    Forwarder,
    notice_kwargs,
    notices_kwargs,
    tick_kwargs,
    wanted,
)
from stock_manager.adapters.kis.websocket import Subscription
from stock_manager.domain.broker import BookLevel, ExecutionNotice, OrderBook, Tick
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Side

AT = datetime(2026, 11, 20, 9, 30, 15, tzinfo=KST)
TICK = Tick("005930", 71500, 12, 500000, AT, 71600, 71500)
NOTICE = ExecutionNotice("0000117057", "", "005930", Side.BUY, True, False, 4, 71500, AT, 10)


@dataclass
class Capture:
    sent: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    def send(self, name: str, kwargs: dict[str, Any], queue: str) -> None:
        self.sent.append((name, kwargs, queue))


def test_tick_kwargs_are_exactly_what_the_task_takes() -> None:
    assert tick_kwargs(TICK) == {
        "symbol": "005930",
        "price": 71500,
        "volume": 12,
        "at": "2026-11-20T09:30:15+09:00",
        "high": 71500,
    }


def test_notice_kwargs_are_plain_json_with_every_field_and_no_secrets() -> None:
    kwargs = notice_kwargs(NOTICE)
    assert json.loads(json.dumps(kwargs)) == kwargs
    notice = kwargs["notice"]
    assert set(notice) == {
        "broker_order_no",
        "original_order_no",
        "symbol",
        "side",
        "is_fill",
        "rejected",
        "quantity",
        "price",
        "at",
        "order_quantity",
        "accept_only",
        "sequence",
    }
    assert (notice["side"], notice["at"]) == ("buy", "2026-11-20T09:30:15+09:00")
    assert "htsuser1" not in json.dumps(kwargs) and "5007" not in json.dumps(kwargs)


def test_the_forwarder_sends_ticks_to_their_queue_and_notices_to_trading() -> None:
    capture = Capture()

    async def scenario() -> None:
        forwarder = Forwarder(capture)
        runner = asyncio.create_task(forwarder.run())
        await forwarder.handle(TICK)
        await forwarder.handle(NOTICE)
        await forwarder.handle(OrderBook("005930", (BookLevel(1, 1),), (), AT))  # not forwarded
        await forwarder.queue.join()
        runner.cancel()

    asyncio.run(scenario())
    assert [(name, queue) for name, _, queue in capture.sent] == [
        ("tasks.orders.on_execution_notices", "trading"),  # notices go ahead of paced ticks
        ("tasks.prices.on_tick", "ticks"),
    ]


def tick(price: int, symbol: str = "005930") -> Tick:
    return Tick(symbol, price, 1, 1, AT)


def forward(
    capture: Capture,
    *events: object,
    interval: float = 0.0,
    queue_size: int = 10_000,
    pause: float = 0.0,
) -> Forwarder:
    async def scenario() -> Forwarder:
        forwarder = Forwarder(capture, tick_interval=interval, queue_size=queue_size)
        runner = asyncio.create_task(forwarder.run())
        for event in events:
            if event == "pause":
                await asyncio.sleep(pause)
            else:
                await forwarder.handle(event)  # type: ignore[arg-type]
        await asyncio.sleep(pause)
        await forwarder.queue.join()
        runner.cancel()
        return forwarder

    return asyncio.run(scenario())


def sent_prices(capture: Capture) -> list[int]:
    return [kwargs["price"] for name, kwargs, _ in capture.sent if name == "tasks.prices.on_tick"]


def test_a_failing_sender_does_not_stop_the_forwarder() -> None:
    class Flaky(Capture):
        def send(self, name: str, kwargs: dict[str, Any], queue: str) -> None:
            if not self.sent:
                self.sent.append(("failed", {}, ""))
                raise ConnectionError("broker down")
            super().send(name, kwargs, queue)

    flaky = Flaky()
    forward(flaky, tick(71_500), "pause", tick(71_500), pause=0.05)
    # the failed price was not marked as sent, so the same price goes out again
    assert [name for name, _, _ in flaky.sent] == ["failed", "tasks.prices.on_tick"]


def test_ticks_are_coalesced_to_the_latest_price_per_symbol() -> None:
    capture = Capture()
    forward(capture, tick(100), tick(101), tick(102), tick(50, "000660"), interval=10.0)
    assert sent_prices(capture) == [102, 50]  # a burst sends only its latest price


def test_the_latest_price_goes_out_once_the_interval_has_passed() -> None:
    capture = Capture()
    forward(capture, tick(100), "pause", tick(101), tick(102), "pause", interval=0.2, pause=0.3)
    assert sent_prices(capture) == [100, 102]  # 101 and 102 came within 100's interval


def test_an_unchanged_price_is_not_sent_again() -> None:
    capture = Capture()
    forward(capture, tick(100), "pause", tick(100), "pause", tick(99), pause=0.02)
    assert sent_prices(capture) == [100, 99]


def test_a_full_queue_drops_ticks_but_never_notices() -> None:
    capture = Capture()

    async def scenario() -> Forwarder:
        forwarder = Forwarder(capture, queue_size=1)
        await forwarder.handle(TICK)
        await forwarder.handle(tick(50, "000660"))  # dropped: a newer tick will follow
        runner = asyncio.create_task(forwarder.run())
        await forwarder.handle(NOTICE)  # waits for room instead
        await forwarder.queue.join()
        runner.cancel()
        return forwarder

    forwarder = asyncio.run(scenario())
    assert forwarder.dropped == 1
    assert [name for name, _, _ in capture.sent][-1] == "tasks.orders.on_execution_notices"


def test_subscriptions_put_notices_first_then_held_then_extra_without_duplicates() -> None:
    subs = wanted(["005930", "000660"], ["000660", "035420"], "H0STCNI0", "htsuser1")
    assert subs == [
        Subscription("H0STCNI0", "htsuser1"),
        Subscription("H0STCNT0", "005930"),
        Subscription("H0STCNT0", "000660"),
        Subscription("H0STCNT0", "035420"),
    ]
    assert wanted([], ["005930"], "H0STCNI9", "") == [Subscription("H0STCNT0", "005930")]


def test_the_notice_task_can_read_what_the_stream_sends() -> None:
    wire = pytest.importorskip("stock_manager.services.wire")
    assert wire.notice_from_wire(notice_kwargs(NOTICE)["notice"]) == NOTICE


def test_the_celery_sender_uses_send_task_with_the_queue() -> None:
    calls: list[tuple[str, dict[str, Any], str, float | None]] = []

    class App:
        def send_task(
            self, name: str, kwargs: dict[str, Any], queue: str, expires: float | None
        ) -> None:
            calls.append((name, kwargs, queue, expires))

    sender = CelerySender(App())
    sender.send("tasks.prices.on_tick", tick_kwargs(TICK), "ticks")
    sender.send("tasks.orders.on_execution_notice", notice_kwargs(NOTICE), "trading")
    assert calls == [
        ("tasks.prices.on_tick", tick_kwargs(TICK), "ticks", 3.0),  # a stale tick is worthless
        ("tasks.orders.on_execution_notice", notice_kwargs(NOTICE), "trading", None),
    ]


def test_the_gate_keeps_ticks_that_change_nothing_from_the_workers() -> None:
    capture = Capture()

    async def scenario() -> Forwarder:
        forwarder = Forwarder(capture, tick_interval=10.0, gate=lambda t: t.price != 101)
        runner = asyncio.create_task(forwarder.run())
        for event in (tick(100, "000660"), tick(102), tick(101), tick(101, "035720")):
            await forwarder.handle(event)
        await forwarder.queue.join()
        runner.cancel()
        return forwarder

    forwarder = asyncio.run(scenario())
    # 102 stays pending through the 101 after it; 101 on its own never goes out
    assert sent_prices(capture) == [100, 102]
    assert forwarder.gated == 2


def test_the_stream_learns_bands_and_drops_impossible_ticks() -> None:
    from stock_manager.adapters.kis.stream import learn_bands, sane_gate
    from stock_manager.domain.exits import ExitPolicy
    from stock_manager.domain.tick_gate import TickGate
    from tests.fakes.broker import FakeBroker

    now = datetime.now(KST)
    broker = FakeBroker()
    broker.set_quote("005930", 71_500, base_price=71_500, upper_limit=92_900, lower_limit=50_100)
    gate = TickGate(ExitPolicy())
    learn_bands(broker, gate, ["005930"])
    passes = sane_gate(gate)
    assert not passes(Tick("005930", 1, 1, 1, now))
    assert not passes(Tick("005930", 93_000, 1, 1, now))
    assert passes(Tick("005930", 69_000, 1, 1, now))  # not watched: the workers judge it
    assert sum(gate.sanity.dropped.values()) == 2


def exit_gate() -> Any:
    """005930 held: 10 shares at 10,000, high 10,000; stop-loss 3 % (9,700), trailing 2 %."""
    from decimal import Decimal

    from stock_manager.domain.exits import ExitPolicy
    from stock_manager.domain.tick_gate import TickGate
    from stock_manager.domain.trade import SymbolState, SymbolTrade

    gate = TickGate(ExitPolicy(Decimal(3), Decimal(5), Decimal(2)))
    trade = SymbolTrade("005930", SymbolState.HOLDING, 10, 100_000, trade_seq=1, high_water=10_000)
    gate.watch([trade, SymbolTrade("000660", SymbolState.ENTERING, trade_seq=1)])
    return gate


def paced_by(capture: Capture, *events: Tick, interval: float = 10.0) -> Forwarder:
    """Forward ``events`` through the exit gate with a long pacing interval; the run loop
    starts only after every event was handled, so the queue's order is what is tested."""
    gate = exit_gate()

    async def scenario() -> Forwarder:
        forwarder = Forwarder(
            capture, tick_interval=interval, gate=gate.passes, urgent=gate.exit_due
        )
        runner = asyncio.create_task(forwarder.run())
        for event in events:
            await forwarder.handle(event)
            await asyncio.sleep(0.01)  # each tick is looked at before the next arrives
        await forwarder.queue.join()
        runner.cancel()
        return forwarder

    return asyncio.run(scenario())


def test_an_exit_crossing_tick_is_forwarded_at_once_right_after_another_tick() -> None:
    capture = Capture()
    paced_by(capture, tick(10_300), tick(9_600))  # a new high, then through the stop
    assert sent_prices(capture) == [10_300, 9_600]  # the stop did not wait 10 s for its turn
    # the exit says so, so the worker goes straight for the lease; the new high does not
    assert [k.get("exit_due", False) for _, k, _ in capture.sent] == [False, True]


def test_an_exit_tick_replaces_a_paced_price_and_more_exits_are_paced_again() -> None:
    capture = Capture()
    paced_by(capture, tick(10_300), tick(10_400), tick(9_600), tick(9_500), tick(9_400))
    # 10,400 was waiting its turn: the stop went out instead, carrying 10,400 as the high
    # it saw; one exit is on its way, so 9,500 and 9,400 wait for the interval like any tick
    assert sent_prices(capture) == [10_300, 9_600]
    assert [k["high"] for _, k, _ in capture.sent] == [10_300, 10_400]


def test_a_paced_tick_settles_so_an_exit_right_behind_it_goes_alone() -> None:
    capture = Capture()
    gate = exit_gate()

    async def scenario() -> None:
        forwarder = Forwarder(
            capture, tick_interval=10.0, gate=gate.passes, urgent=gate.exit_due, settle=0.05
        )
        runner = asyncio.create_task(forwarder.run())
        await forwarder.handle(tick(10_300))  # a new high: paced, settling
        await asyncio.sleep(0.01)
        await forwarder.handle(tick(9_600))  # the stop, 10 ms later
        await asyncio.sleep(0.1)
        await forwarder.queue.join()
        runner.cancel()

    asyncio.run(scenario())
    # one task instead of two racing for the symbol's lease; the high travels with it
    assert [(k["price"], k["high"]) for _, k, _ in capture.sent] == [(9_600, 10_300)]


def test_an_exit_tick_goes_ahead_of_paced_ticks_of_other_symbols() -> None:
    capture = Capture()
    gate = exit_gate()

    async def scenario() -> None:
        forwarder = Forwarder(capture, tick_interval=10.0, gate=gate.passes, urgent=gate.exit_due)
        for symbol in ("000660", "035720", "035420"):
            await forwarder.handle(tick(50_000, symbol))  # not judged: paced
        await forwarder.handle(tick(9_600))
        runner = asyncio.create_task(forwarder.run())
        await forwarder.queue.join()
        runner.cancel()

    asyncio.run(scenario())
    assert [k["symbol"] for _, k, _ in capture.sent][:1] == ["005930"]
    assert len(capture.sent) == 4


def test_notices_arriving_together_for_a_symbol_go_out_in_one_task_numbered() -> None:
    """Two same-second fills of one order are two fills; the task can tell them from a
    redelivery by their sequence (KIS gives a notice no id)."""
    from dataclasses import replace

    capture = Capture()
    other = replace(NOTICE, symbol="000660", broker_order_no="0000117058")

    async def scenario() -> None:
        forwarder = Forwarder(capture)
        for notice in (NOTICE, other, NOTICE):  # all before the sender's first turn
            await forwarder.handle(notice)
        runner = asyncio.create_task(forwarder.run())
        await forwarder.queue.join()
        await forwarder.handle(NOTICE)  # a third identical fill, later: its own task
        await forwarder.queue.join()
        runner.cancel()

    asyncio.run(scenario())
    batches = [kwargs["notices"] for name, kwargs, _ in capture.sent]
    assert [[(n["symbol"], n["sequence"]) for n in b] for b in batches] == [
        [("005930", 0), ("005930", 1)],
        [("000660", 0)],
        [("005930", 2)],
    ]
    assert batches[0] == notices_kwargs([NOTICE, replace(NOTICE, sequence=1)])["notices"]
