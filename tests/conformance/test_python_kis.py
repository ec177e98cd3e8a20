"""python-kis 2.1.6 (Soju06/python-kis) against the simulator, live and paper.

Pointing it here: python-kis hard-codes KIS's hosts, so the test patches
``pykis.kis.REAL_DOMAIN``/``VIRTUAL_DOMAIN`` and ``pykis.client.websocket``'s
``WEBSOCKET_REAL_DOMAIN``/``WEBSOCKET_VIRTUAL_DOMAIN``. In paper mode python-kis needs a live
app key too: it sends quotes, stock info and the price stream to the live domain and
trading to the paper one, so the paper rig runs two simulators (one per dialect).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pykis.client.websocket as pykis_websocket
import pykis.kis
import pytest
from pykis import KisAuth, PyKis

from stock_manager.domain.clock import KST
from stock_manager.sim.server import SimServer
from tests.conformance.conftest import (
    SYMBOL,
    StartSim,
    client_bug,
    lower_limit,
    orders_of,
    wait_for,
)

BALANCE_BUG = (
    "python-kis 2.1.6 sends INQR_DVSN=02, which KIS refuses since 2026-02-10 "
    "(python-kis issue #81); the simulator answers OPSQ2001 as KIS does"
)
NOTICE_BUG = (
    "python-kis 2.1.6 parses the older 23-field notice; KIS sends 26 fields "
    "(official samples' ccnl_notice columns) and python-kis drops every notice"
)
APPROVAL_BUG = (
    "python-kis 2.1.6 in paper mode asks the paper domain for the live WebSocket's approval "
    "key (websocket_approval_key drops its domain argument); the live server does not know "
    "that key (OPSP0011) ⚠ whether KIS shares approval keys between its two servers"
)
LAYOUT_BUG = (
    "python-kis 2.1.6 requires exactly 46 H0STCNT0 fields; KIS appends MARKET_CLS_CODE "
    "since KRX's after-market session (2026-09-14), so every tick is dropped"
)


@dataclass
class Rig:
    kis: PyKis
    quotes: SimServer  # the live-domain simulator
    trading: SimServer  # where orders go: the paper simulator in paper mode
    dialect: str


def _auth(server: SimServer, virtual: bool) -> KisAuth:
    config = server.config
    return KisAuth(
        id=config.hts_id,
        account=config.account,
        appkey=config.app_key,
        secretkey=config.app_secret,
        virtual=virtual,
    )


def build(start_sim: StartSim, mp: pytest.MonkeyPatch, dialect: str, **sim: Any) -> Rig:
    live = start_sim(**sim)
    paper = start_sim(env="paper", **sim) if dialect == "paper" else live
    mp.setattr(pykis.kis, "REAL_DOMAIN", live.rest_url)
    mp.setattr(pykis.kis, "VIRTUAL_DOMAIN", paper.rest_url)
    mp.setattr(pykis_websocket, "WEBSOCKET_REAL_DOMAIN", live.ws_url)
    mp.setattr(pykis_websocket, "WEBSOCKET_VIRTUAL_DOMAIN", paper.ws_url)
    if dialect == "paper":
        kis = PyKis(_auth(live, False), _auth(paper, True), keep_token=False)
    else:
        kis = PyKis(_auth(live, False), keep_token=False)
    return Rig(kis, live, paper, dialect)


@pytest.fixture(scope="module", params=["live", "paper"])
def rig(request: pytest.FixtureRequest, start_sim: StartSim) -> Iterator[Rig]:
    with pytest.MonkeyPatch.context() as mp:
        built = build(start_sim, mp, request.param)
        yield built
        built.kis.websocket.disconnect()


def test_token(rig: Rig) -> None:
    assert rig.kis.token.token
    if rig.dialect == "paper":
        assert rig.kis.primary_token.token != rig.kis.token.token


def test_stock_info_resolves_market_and_name(rig: Rig) -> None:
    info = rig.kis.stock(SYMBOL).info
    assert (info.symbol, info.market, info.name) == (SYMBOL, "KRX", "삼성전자")
    assert info.std_code == "KR7005930003"


def test_quote(rig: Rig) -> None:
    quote = rig.kis.stock(SYMBOL).quote()
    assert quote.low_limit <= quote.price <= quote.high_limit and quote.price > 0
    assert quote.name == "삼성전자"


def test_orderbook(rig: Rig) -> None:
    book = rig.kis.stock(SYMBOL).orderbook()
    assert book.asks[0].price > book.bids[0].price > 0


def test_daily_chart_from_the_beginning(rig: Rig) -> None:
    chart = rig.kis.stock(SYMBOL).daily_chart()  # FID_INPUT_DATE_1=00000101
    days = [bar.time.date() for bar in chart.bars]
    assert len(days) == 131 and days == sorted(days)  # 130 days of history + today


def test_minute_chart(rig: Rig) -> None:
    chart = rig.kis.stock(SYMBOL).day_chart()  # FID_INPUT_HOUR_1=000000 then backwards
    assert len(chart.bars) > 30 and all(bar.close > 0 for bar in chart.bars)


@client_bug(BALANCE_BUG)
def test_balance(rig: Rig) -> None:
    rig.kis.account().balance()


def test_orderable_amount(rig: Rig) -> None:
    amount = rig.kis.stock(SYMBOL).orderable_amount()
    assert amount.qty > 0 and amount.amount > 0


def test_market_buy_and_history(rig: Rig) -> None:
    order = rig.kis.stock(SYMBOL).buy(qty=1)
    sim_order = orders_of(rig.trading)[order.number]
    assert (sim_order["symbol"], sim_order["side"], sim_order["qty"]) == (SYMBOL, "buy", 1)
    history = rig.kis.account().daily_orders(start=datetime.now(KST).date())
    assert order.number in {o.order_number.number for o in history.orders}


def test_pending_orders(rig: Rig) -> None:
    price = lower_limit(rig.trading)
    order = rig.kis.stock(SYMBOL).buy(price=price, qty=2)
    pending = rig.kis.account().pending_orders()
    if rig.dialect == "paper":  # python-kis lists only overseas orders on paper (its choice)
        assert pending.orders == []
    else:
        assert order.number in {o.order_number.number for o in pending.orders}


def test_modify_then_cancel(rig: Rig) -> None:
    if rig.dialect == "paper":
        pytest.skip("python-kis offers no modify/cancel on paper (NotImplementedError)")
    price = lower_limit(rig.trading)
    order = rig.kis.stock(SYMBOL).buy(price=price, qty=2)
    modified = order.modify(price=price + 5 if price < 2_000 else price + 10)
    assert orders_of(rig.trading)[order.number]["status"] == "replaced"
    modified.cancel()
    assert orders_of(rig.trading)[modified.number]["status"] == "cancelled"


def _realtime_prices(rig: Rig) -> list[Any]:
    got: list[Any] = []
    ticket = rig.kis.stock(SYMBOL).on("price", lambda sender, e: got.append(e.response))
    try:
        wait_for(lambda: len(got) >= 3, timeout=5.0)
    finally:
        ticket.unsubscribe()
    return got


@pytest.mark.parametrize("dialect", ["live", pytest.param("paper", marks=client_bug(APPROVAL_BUG))])
def test_realtime_price_classic_layout(
    start_sim: StartSim, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    rig = build(start_sim, monkeypatch, dialect, ws_layout="classic")
    try:
        prices = _realtime_prices(rig)
    finally:
        rig.kis.websocket.disconnect()
    assert {p.symbol for p in prices} == {SYMBOL} and all(p.price > 0 for p in prices)
    assert prices[0].time_kst.date() == datetime.now(KST).date()


@client_bug(LAYOUT_BUG)
def test_realtime_price(rig: Rig) -> None:
    assert _realtime_prices(rig)


@client_bug(NOTICE_BUG)
def test_realtime_notice(rig: Rig) -> None:
    got: list[Any] = []
    ticket = rig.kis.account().on("execution", lambda sender, e: got.append(e.response))
    try:
        wait_for(lambda: rig.kis.websocket.connected, timeout=5.0)
        rig.kis.stock(SYMBOL).buy(qty=1)
        wait_for(lambda: len(got) >= 1, timeout=5.0)
    finally:
        ticket.unsubscribe()
