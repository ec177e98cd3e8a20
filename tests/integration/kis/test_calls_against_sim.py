"""Every typed call, over loopback, against the simulator; paging with real page sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stock_manager.adapters.kis.errors import KISNotSupported, KISRejectedError
from stock_manager.adapters.kis.mapping import KISUnknownSymbol
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.krx import ticks_away
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Client, Connect, StartSim


def resting_buy(client: Client, symbol: str, quantity: int = 1) -> OrderRequest:
    """A limit buy at the lower limit: it rests and does not fill."""
    quote = client.broker.quote(symbol)
    return OrderRequest(symbol, Side.BUY, quantity, OrderType.LIMIT, quote.lower_limit)


@pytest.mark.parametrize("dialect", ["live", "paper"])
def test_quotes_books_and_charts(start_sim: StartSim, connect: Connect, dialect: str) -> None:
    client = connect(start_sim(env=dialect))
    symbols = client.symbols()[:3]
    quote = client.broker.quote(symbols[0])
    assert quote.symbol == symbols[0] and quote.lower_limit < quote.price < quote.upper_limit
    quotes = client.broker.quotes(symbols)  # multprice on live, one by one on paper
    assert set(quotes) == set(symbols)
    book = client.broker.orderbook(symbols[0])
    assert book.best_ask is not None and book.best_bid is not None
    assert book.best_bid < book.best_ask
    minutes = client.broker.minute_candles(symbols[0])
    assert 0 < len(minutes) <= 30
    assert minutes == sorted(minutes, key=lambda c: c.start)
    assert all(c.low <= c.close <= c.high for c in minutes)
    daily = client.rest.daily_prices(symbols[0])
    assert 0 < len(daily) <= 30


def test_daily_candles_page_past_one_hundred_rows(live: Client) -> None:
    symbol = live.symbols()[0]
    today = live.rest.today()
    candles = live.broker.daily_candles(symbol, today - timedelta(days=200), today)
    assert len(candles) > 100  # more than one page of 100
    days = [c.start.date() for c in candles]
    assert days == sorted(set(days))  # no duplicates across page boundaries


def test_volume_rank_and_holidays_on_live(live: Client) -> None:
    ranked = live.broker.volume_rank()
    assert ranked and len(ranked) <= 30
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    assert live.broker.is_trading_day(live.rest.today()) in (True, False)


def test_paper_lacks_volume_rank_holidays_and_pending_orders(paper: Client) -> None:
    assert paper.broker.volume_rank() is None
    assert paper.broker.is_trading_day(paper.rest.today()) is None
    with pytest.raises(KISNotSupported):
        paper.rest.pending_orders()


def test_the_server_refuses_live_only_trs_on_paper_with_egw02006(
    start_sim: StartSim, connect: Connect
) -> None:
    confused = connect(start_sim(env="paper"), dialect="live")  # live tr_ids to a paper server
    with pytest.raises(KISNotSupported) as caught:
        confused.rest.volume_rank()
    assert caught.value.code == "EGW02006"


def test_unknown_symbol(live: Client) -> None:
    with pytest.raises(KISUnknownSymbol):
        live.broker.quote("999999")


def test_balance_pages(start_sim: StartSim, connect: Connect) -> None:
    server = start_sim(env="paper", symbols=30)
    client = connect(server)
    symbols = client.symbols()
    holdings = [{"symbol": s, "qty": 2, "avg_price": 5_000} for s in symbols[:25]]
    client.admin("account", {"cash": 50_000_000, "holdings": holdings})
    balance = client.broker.balance()
    assert {h.symbol for h in balance.holdings if h.quantity} == set(symbols[:25])  # 20 + 5
    assert balance.cash == 50_000_000


def test_orders_submit_history_cancel_and_modify(live: Client) -> None:
    symbol = live.symbols()[0]
    request = resting_buy(live, symbol, 3)
    ack = live.broker.submit(request)
    assert len(ack.broker_order_no) == 10 and ack.broker_order_no.isdigit()
    (row,) = [
        o for o in live.broker.orders(live.rest.today()) if o.broker_order_no == ack.broker_order_no
    ]
    assert (row.symbol, row.side, row.quantity, row.price) == (symbol, Side.BUY, 3, request.price)
    assert row.is_open and row.order_type is OrderType.LIMIT
    pending = live.broker.open_orders()
    assert ack.broker_order_no in {o.broker_order_no for o in pending}
    tick_up = ticks_away(request.price, 1)
    modified = live.broker.modify(
        ack.broker_order_no, ack.branch, OrderRequest(symbol, Side.BUY, 3, OrderType.LIMIT, tick_up)
    )
    assert modified.broker_order_no != ack.broker_order_no
    cancelled = live.broker.cancel(modified.broker_order_no, modified.branch)
    assert cancelled.broker_order_no not in (ack.broker_order_no, modified.broker_order_no)
    rows = {o.broker_order_no: o for o in live.broker.orders(live.rest.today())}
    assert not rows[modified.broker_order_no].is_open
    with pytest.raises(KISRejectedError):
        live.broker.cancel(modified.broker_order_no, modified.branch)  # nothing left


def test_a_filled_order_shows_in_balance_and_history(live: Client) -> None:
    symbol = live.symbols()[0]
    quote = live.broker.quote(symbol)
    ack = live.broker.submit(OrderRequest(symbol, Side.BUY, 2, OrderType.MARKET))
    for _ in range(50):
        row = {o.broker_order_no: o for o in live.broker.orders(live.rest.today())}[
            ack.broker_order_no
        ]
        if row.filled_quantity == 2:
            break
    assert row.filled_quantity == 2 and row.filled_amount > 0
    holding = live.broker.balance().holding(symbol)
    assert holding is not None and holding.quantity >= 2
    power = live.broker.buying_power(symbol, quote.price)
    assert power.cash > 0 and power.max_quantity >= 0


def test_daily_ccld_pages_of_fifteen_on_paper(paper: Client) -> None:
    symbol = paper.symbols()[0]
    request = resting_buy(paper, symbol)
    sent = {paper.broker.submit(request).broker_order_no for _ in range(20)}
    rows = paper.broker.orders(paper.rest.today())
    assert sent <= {o.broker_order_no for o in rows}  # 15 + 5 on two pages
    assert sent <= {o.broker_order_no for o in paper.broker.open_orders()}


def test_pending_orders_page_past_fifty_on_live(live: Client) -> None:
    symbol = live.symbols()[0]
    request = resting_buy(live, symbol)
    sent = {live.broker.submit(request).broker_order_no for _ in range(55)}
    assert sent <= {o.broker_order_no for o in live.rest.pending_orders()}


def test_old_order_tr_ids_are_accepted(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(), use_old_tr_ids=True)
    symbol = client.symbols()[0]
    ack = client.broker.submit(resting_buy(client, symbol))
    assert ack.broker_order_no
    client.broker.cancel(ack.broker_order_no, ack.branch)


def test_revoke_then_the_next_call_reissues(live: Client) -> None:
    token = live.http.tokens.get()
    live.http.revoke(token.value)
    assert live.broker.quote(live.symbols()[0]).price > 0
    assert live.http.tokens.get().generation == token.generation + 1


def test_orders_with_a_hashkey(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim())
    object.__setattr__(client.http.env, "use_hashkey", True)
    symbol = client.symbols()[0]
    ack = client.broker.submit(resting_buy(client, symbol))
    assert ack.broker_order_no


def test_the_volume_ranking_lists_etfs_only_when_asked(
    start_sim: StartSim, connect: Connect
) -> None:
    """SCAN_ETFS: leveraged and inverse ETFs are scanned like stocks; off, they never are."""
    client = connect(start_sim(env="live", symbols=30))  # the universe's last four are ETFs
    etfs = {"122630", "252670", "114800", "069500"}
    assert not {r.symbol for r in client.rest.volume_rank()} & etfs
    assert {r.symbol for r in client.rest.volume_rank(etfs=True)} & etfs
