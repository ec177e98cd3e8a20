"""The stream process end to end: symbols from the database, ticks and notices forwarded
as the exact Celery task calls, against the simulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from stock_manager.adapters.db.engine import make_engine, make_session_factory
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.db.models import SymbolStateRow
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.adapters.kis.stream import Forwarder, run_stream, wanted, watched_trades
from stock_manager.adapters.kis.websocket import Backoff, KisWebSocket
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.tick_gate import TickGate
from tests.integration.kis.conftest import Client


@dataclass
class Capture:
    sent: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    def send(self, name: str, kwargs: dict[str, Any], queue: str) -> None:
        self.sent.append((name, kwargs, queue))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for n, kwargs, _ in self.sent if n == name]


def test_the_stream_forwards_ticks_of_held_symbols_and_fill_notices(
    live: Client, sqlite_url: str
) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    held, flat, extra = live.symbols()[:3]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for symbol, state in ((held, "HOLDING"), (flat, "FLAT")):
            conn.execute(insert(SymbolStateRow).values(symbol=symbol, state=state, updated_at=now))
    uow = SqlUnitOfWork(make_session_factory(engine))
    assert [t.symbol for t in watched_trades(uow)] == [held]

    env, capture, gate = live.http.env, Capture(), TickGate(ExitPolicy())
    forwarder = Forwarder(capture, gate=gate.passes)
    ws = KisWebSocket(
        env.ws_endpoint, live.http.approvals, forwarder.handle, backoff=Backoff(0.1, 0.5)
    )
    hts_id = live.server.config.hts_id

    def compute() -> list[Any]:
        trades = watched_trades(uow)
        gate.watch(trades)
        return wanted([t.symbol for t in trades], [extra], env.notice_tr_id, hts_id)

    async def scenario() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(run_stream(ws, forwarder, compute, 0.2, stop))
        try:
            await _until(
                lambda: (
                    {k["symbol"] for k in capture.named("tasks.prices.on_tick")} >= {held, extra}
                )
            )
            ack = await asyncio.to_thread(
                live.broker.submit, OrderRequest(held, Side.BUY, 1, OrderType.MARKET)
            )
            await _until(
                lambda: any(
                    n["broker_order_no"] == ack.broker_order_no and n["is_fill"]
                    for k in capture.named("tasks.orders.on_execution_notices")
                    for n in k["notices"]
                )
            )
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)

    asyncio.run(scenario())
    engine.dispose()
    ticks = capture.named("tasks.prices.on_tick")
    assert flat not in {t["symbol"] for t in ticks}
    # the record's trading state rides along (the simulator's records carry it), so an
    # exit is priced without a quote; a forwarder built here knows no band to send
    assert set(ticks[0]) == {"symbol", "price", "volume", "at", "high", "hour_code", "halted"}
    assert ticks[0]["halted"] is False and ticks[0]["hour_code"] in ("0", "C")
    assert datetime.fromisoformat(ticks[0]["at"]).tzinfo is not None
    queues = {name: queue for name, _, queue in capture.sent}
    assert queues == {
        "tasks.prices.on_tick": "ticks",
        "tasks.orders.on_execution_notices": "trading",
    }
    notice = capture.named("tasks.orders.on_execution_notices")[-1]["notices"][-1]
    assert (notice["symbol"], notice["side"]) == (held, "buy")


async def _until(condition: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
