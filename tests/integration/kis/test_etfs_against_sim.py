"""Issue 13 item 6 over loopback: the simulator lists leveraged and inverse ETFs and answers
their fields as KIS does; the adapter reads the instrument type from them; an ETF trades on
its own tick grid, within its multiple's limits, and its sale pays no tax."""

from __future__ import annotations

import time
from decimal import Decimal

from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.instruments import InstrumentKind, ListingMarket
from stock_manager.domain.krx import instrument_limits, is_on_tick
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Client, Connect, StartSim

LEVERAGED, INVERSE = "122630", "114800"


def filled(client: Client, odno: str, quantity: int) -> None:
    for _ in range(100):
        rows = {o.broker_order_no: o for o in client.broker.orders(client.rest.today())}
        if rows[odno].filled_quantity == quantity:
            return
        time.sleep(0.05)
    raise AssertionError(f"{odno} did not fill")


def test_the_instrument_and_limits_of_an_etf_on_live(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(env="live", symbols=30))
    listed = {s["symbol"]: s for s in client.admin("symbols")["symbols"]}
    assert listed[LEVERAGED]["instrument"] == "ETF" and listed[INVERSE]["multiple"] == -1.0
    etf = client.broker.instrument(LEVERAGED)
    assert (etf.kind, etf.market, etf.multiple) == (
        InstrumentKind.ETF,
        ListingMarket.KOSPI,
        Decimal("2.00"),
    )
    assert client.broker.instrument("005930").kind is InstrumentKind.STOCK
    quote = client.broker.quote(LEVERAGED)
    limits = instrument_limits(quote.base_price, etf)  # ±60 % for a 2x ETF
    assert (quote.upper_limit, quote.lower_limit) == (limits.upper, limits.lower)


def test_paper_reads_the_etf_from_the_quote(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(env="paper", symbols=30))
    assert client.broker.instrument(INVERSE).kind is InstrumentKind.ETF
    assert client.broker.instrument("005930").kind is InstrumentKind.STOCK


def test_an_etf_trades_on_its_grid_and_its_sale_pays_no_tax(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim(env="live", symbols=30))
    quote = client.broker.quote(LEVERAGED)
    # A resting buy at a price only the ETF grid has (5-won steps from 2,000) is accepted.
    price = next(
        p
        for p in range(quote.lower_limit, quote.price)
        if is_on_tick(p, InstrumentKind.ETF) and not is_on_tick(p)
    )
    resting = client.broker.submit(OrderRequest(LEVERAGED, Side.BUY, 1, OrderType.LIMIT, price))
    client.broker.cancel(resting.broker_order_no, resting.branch)
    buy = client.broker.submit(OrderRequest(LEVERAGED, Side.BUY, 3, OrderType.MARKET))
    filled(client, buy.broker_order_no, 3)
    sell = client.broker.submit(OrderRequest(LEVERAGED, Side.SELL, 3, OrderType.MARKET))
    filled(client, sell.broker_order_no, 3)
    cash = client.admin("state")["cash"]
    assert cash["tax_today"] == 0 and cash["commission_today"] > 0
    assert client.broker.balance().costs_today == cash["commission_today"]
