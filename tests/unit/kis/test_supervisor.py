"""``stock-manager stream`` outlives what escapes its loops, and still stops on a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from unittest import mock

import pytest
import redis.exceptions

from stock_manager.adapters.kis.stream import Forwarder, _install_signals, run_stream
from stock_manager.adapters.kis.supervisor import Supervisor
from stock_manager.adapters.kis.token_store import Credential
from stock_manager.adapters.kis.websocket import Backoff, KisWebSocket
from stock_manager.ports import Notice
from tests.unit.kis.test_stream import Capture
from tests.unit.kis.test_stream_fuzz import FakeServer
from tests.unit.kis.test_websocket import TODAY, Approvals, tick_fields

ACCOUNT_IN_MESSAGE = "5007123401"


class Highest:
    def uniform(self, low: float, high: float) -> float:
        return high


def supervisor(alerts: list[Notice], base: float = 0.01, cap: float = 1.0) -> Supervisor:
    return Supervisor(alert=alerts.append, base=base, cap=cap, rng=Highest())  # type: ignore[arg-type]


def test_a_loop_that_raises_is_restarted_with_doubling_delays_and_an_alert_each_time() -> None:
    alerts: list[Notice] = []
    sup = supervisor(alerts)
    calls: list[float] = []

    async def flaky() -> None:
        calls.append(time.monotonic())
        if len(calls) <= 3:
            raise ValueError(f"frame for account {ACCOUNT_IN_MESSAGE}")

    asyncio.run(sup.run("websocket", flaky, asyncio.Event()))
    assert len(calls) == 4  # three failures, then it ran to its end
    assert [r.delay for r in sup.restarts] == [0.01, 0.02, 0.04]
    assert [(n.kind, n.level, n.thread_key) for n in alerts] == [
        ("stream_restart", "error", "stream_restart:websocket")
    ] * 3
    assert "ValueError at test_supervisor.py" in alerts[0].text
    assert ACCOUNT_IN_MESSAGE not in alerts[0].text  # the message may carry frame content


def test_stopping_ends_the_backoff_at_once_and_nothing_restarts_after_it() -> None:
    alerts: list[Notice] = []
    sup = supervisor(alerts, base=30.0, cap=60.0)

    async def scenario() -> float:
        stop = asyncio.Event()

        async def broken() -> None:
            raise RuntimeError("bug")

        runner = asyncio.create_task(sup.run("forwarder", broken, stop))
        await asyncio.sleep(0.05)  # failed once; now waiting 30 s
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(runner, timeout=2)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0
    assert len(sup.restarts) == 1 and len(alerts) == 1


def test_a_broken_notifier_does_not_stop_the_restart() -> None:
    def refuse(notice: Notice) -> None:
        raise ConnectionError("slack down")

    sup = Supervisor(alert=refuse, base=0.01)
    runs: list[int] = []

    async def once_broken() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise KeyError("x")

    asyncio.run(sup.run("subscriptions", once_broken, asyncio.Event()))
    assert len(runs) == 2


class RedisGoneOnce(Approvals):
    """The token store fails in a way the client does not expect (not a KISError/OSError)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def get(self) -> Credential:
        if not self.failed:
            self.failed = True
            raise redis.exceptions.ConnectionError(f"Error 111 for {ACCOUNT_IN_MESSAGE}")
        return super().get()


def test_the_stream_restarts_its_socket_loop_alerts_and_forwards_what_follows() -> None:
    capture, alerts = Capture(), []
    forwarder = Forwarder(capture, tick_interval=0.0)
    ws = KisWebSocket(
        "ws://kis.test", RedisGoneOnce(), forwarder.handle, backoff=Backoff(0.01, 0.02)
    )
    ws._today = lambda: TODAY
    frames = ["0|H0STCNT0|001|" + "^".join(tick_fields(price=71600))]

    async def scenario() -> Supervisor:
        stop = asyncio.Event()
        server = FakeServer(frames, stop)
        with mock.patch("stock_manager.adapters.kis.websocket.connect", server):
            return await asyncio.wait_for(
                run_stream(ws, forwarder, list, 60.0, stop, supervisor(alerts)), timeout=10
            )

    sup = asyncio.run(scenario())
    assert [(r.loop, r.error.split(" at ")[0]) for r in sup.restarts] == [
        ("websocket", "ConnectionError")
    ]
    assert len(alerts) == 1 and ACCOUNT_IN_MESSAGE not in alerts[0].text
    assert [kwargs["price"] for _, kwargs, _ in capture.sent] == [71600]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_stream_cleanly_without_a_restart(signum: int) -> None:
    alerts: list[Notice] = []

    class Idle:
        """A socket loop that runs until stopped, like KisWebSocket.run."""

        async def run(self, stop: asyncio.Event) -> None:
            await stop.wait()

        def set_subscriptions(self, wanted: object) -> list[object]:
            return []

    async def scenario() -> Supervisor:
        stop = asyncio.Event()
        _install_signals(stop)
        forwarder = Forwarder(Capture())
        runner = asyncio.create_task(
            run_stream(Idle(), forwarder, list, 60.0, stop, supervisor(alerts))  # type: ignore[arg-type]
        )
        await asyncio.sleep(0.05)
        os.kill(os.getpid(), signum)
        return await asyncio.wait_for(runner, timeout=5)

    sup = asyncio.run(scenario())
    assert sup.restarts == [] and alerts == []
