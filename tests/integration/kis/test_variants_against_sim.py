"""Our client against each ⚠ variant the simulator can be set to (issue 15): both record
layouts, both first-page letters, and rt_cd 7 on a refused cancel."""

from __future__ import annotations

import pytest

from stock_manager.adapters.kis.errors import KISOrderOutcomeUnknown, KISRejectedError
from stock_manager.adapters.kis.websocket import Event, Subscription
from stock_manager.domain.broker import OrderBook, OrderRequest
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Connect, StartSim
from tests.integration.kis.test_websocket_against_sim import run_with, socket_for, ticks, until


@pytest.mark.parametrize("layout", ["extended", "classic"])
def test_ticks_and_books_of_either_layout(
    start_sim: StartSim, connect: Connect, layout: str
) -> None:
    client = connect(start_sim(ws_layout=layout))
    symbol = client.symbols()[0]
    events: list[Event] = []
    ws = socket_for(client, events)
    ws.set_subscriptions([Subscription("H0STCNT0", symbol), Subscription("H0STASP0", symbol)])

    async def scenario() -> None:
        await until(
            lambda: (
                len(ticks(events, symbol)) >= 3 and any(isinstance(e, OrderBook) for e in events)
            )
        )

    run_with(ws, scenario)
    assert all(t.price > 0 for t in ticks(events, symbol))
    book = next(e for e in events if isinstance(e, OrderBook))
    assert book.best_ask > book.best_bid > 0
    assert ws.stats.malformed == 0


@pytest.mark.parametrize("first", ["F", "M"])
def test_balance_pages_with_either_first_letter(
    start_sim: StartSim, connect: Connect, first: str
) -> None:
    client = connect(start_sim(env="paper", symbols=30, first_page_cont=first))
    symbols = client.symbols()
    holdings = [{"symbol": s, "qty": 2, "avg_price": 5_000} for s in symbols[:25]]
    client.admin("account", {"holdings": holdings})
    balance = client.broker.balance()
    assert {h.symbol for h in balance.holdings if h.quantity} == set(symbols[:25])  # 20 + 5


def test_a_cancel_refused_with_rt_cd_7_is_a_refusal(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim())
    symbol = client.symbols()[0]
    ack = client.broker.submit(OrderRequest(symbol, Side.BUY, 1, OrderType.MARKET))
    with pytest.raises(KISRejectedError) as caught:  # filled at once: nothing left to cancel
        client.broker.cancel(ack.broker_order_no, ack.branch)
    assert not isinstance(caught.value, KISOrderOutcomeUnknown)
    assert caught.value.code == "APBK0344"
