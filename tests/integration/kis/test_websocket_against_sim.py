"""The WebSocket client against the simulator: ticks, encrypted notices, PINGPONG, the cap,
and reconnect + resubscribe after a forced drop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from stock_manager.adapters.kis.websocket import Backoff, Event, KisWebSocket, Subscription
from stock_manager.domain.broker import ExecutionNotice, OrderRequest, Tick
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Client, Connect, StartSim


def socket_for(client: Client, events: list[Event], **kw: Any) -> KisWebSocket:
    async def collect(event: Event) -> None:
        events.append(event)

    kw.setdefault("backoff", Backoff(base=0.1, cap=0.5))
    return KisWebSocket(client.http.env.ws_endpoint, client.http.approvals, collect, **kw)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def run_with(ws: KisWebSocket, scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(ws.run(stop))
        try:
            await scenario()
        finally:
            stop.set()
            await asyncio.wait_for(runner, 5)

    asyncio.run(main())


def ticks(events: list[Event], symbol: str | None = None) -> list[Tick]:
    return [e for e in events if isinstance(e, Tick) and (symbol is None or e.symbol == symbol)]


def test_ticks_and_encrypted_fill_notices(live: Client) -> None:
    symbol = live.symbols()[0]
    events: list[Event] = []
    ws = socket_for(live, events)
    config = live.server.config
    ws.set_subscriptions(
        [Subscription(live.http.env.notice_tr_id, config.hts_id), Subscription("H0STCNT0", symbol)]
    )

    async def scenario() -> None:
        await until(lambda: len(ticks(events, symbol)) >= 3)
        request = OrderRequest(symbol, Side.BUY, 1, OrderType.MARKET)
        ack = await asyncio.to_thread(live.broker.submit, request)
        await until(
            lambda: any(
                isinstance(e, ExecutionNotice)
                and e.is_fill
                and e.broker_order_no == ack.broker_order_no
                for e in events
            )
        )

    run_with(ws, scenario)
    tick = ticks(events, symbol)[0]
    assert tick.price > 0 and tick.at.tzinfo is not None
    notices = [e for e in events if isinstance(e, ExecutionNotice)]
    fill = next(n for n in notices if n.is_fill)
    assert (fill.symbol, fill.side, fill.quantity) == (symbol, Side.BUY, 1) and fill.price > 0
    assert ws.stats.malformed == 0


def test_reconnects_and_resubscribes_after_a_forced_drop(live: Client) -> None:
    symbols = live.symbols()[:2]
    events: list[Event] = []
    ws = socket_for(live, events)
    ws.set_subscriptions([Subscription("H0STCNT0", s) for s in symbols])

    async def scenario() -> None:
        await until(lambda: {t.symbol for t in ticks(events)} == set(symbols))
        before = len(events)
        dropped = await asyncio.to_thread(live.admin, "faults", {"drop_ws": True})
        assert dropped["actions"]["dropped_sockets"] == 1
        await until(lambda: ws.stats.connections == 2)
        await until(lambda: {t.symbol for t in ticks(events[before:])} == set(symbols))

    run_with(ws, scenario)
    assert ws.stats.connections == 2


def test_pingpong_keeps_the_session_alive(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(ws_ping_interval=0.2))
    events: list[Event] = []
    ws = socket_for(client, events)
    ws.set_subscriptions([Subscription("H0STCNT0", client.symbols()[0])])

    async def scenario() -> None:
        await until(lambda: ws.stats.pings >= 5)

    run_with(ws, scenario)
    assert ws.stats.connections == 1


def test_subscriptions_stay_within_the_cap(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(symbols=50))
    symbols = client.symbols()
    events: list[Event] = []
    ws = socket_for(client, events)
    left_out = ws.set_subscriptions([Subscription("H0STCNT0", s) for s in symbols[:45]])
    assert len(left_out) == 4

    async def scenario() -> None:
        await until(lambda: ws.stats.acks >= 41)
        await asyncio.sleep(0.3)
        ws.set_subscriptions([Subscription("H0STCNT0", s) for s in symbols[5:46]])
        await until(lambda: ws.stats.acks >= 41 + 10)  # 5 unsubscribed, 5 subscribed
        await until(lambda: symbols[45] in {t.symbol for t in ticks(events)})
        assert ws.active == frozenset(Subscription("H0STCNT0", s) for s in symbols[5:46])

    run_with(ws, scenario)
    assert ws.stats.refused == []  # never OPSP0008 (max subscribe over)


def test_a_wrong_hts_id_drops_the_socket_and_the_client_keeps_trying(live: Client) -> None:
    events: list[Event] = []
    ws = socket_for(live, events)
    ws.set_subscriptions([Subscription(live.http.env.notice_tr_id, "nobody")])

    async def scenario() -> None:
        await until(lambda: ws.stats.connections >= 2)

    run_with(ws, scenario)


def test_approval_keys_are_shared_through_the_store(live: Client) -> None:
    first = live.http.approvals.get()
    assert live.http.approvals.get() == first
    reply = httpx.get(f"{live.server.rest_url}/_sim/clock")
    assert reply.status_code == 200
