"""kis-trader 0.12.2 (seokhoonj/kis-trader) against the simulator, live ("real") and paper.

Pointing it here: kis-trader reads KIS's hosts from two dicts in
``kis_trader._internal._endpoints`` at call time; the test replaces their entries with the
simulator's URLs. Tokens are cached under a temporary directory (``token_cache_dir``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kis_trader import KISClient
from kis_trader._internal import _endpoints

from stock_manager.domain.clock import KST
from stock_manager.sim.server import SimServer
from tests.conformance.conftest import (
    SYMBOL,
    StartSim,
    admin,
    client_bug,
    lower_limit,
    orders_of,
    wait_for,
)

BALANCE_BUG = (
    "kis-trader 0.12.2 sends INQR_DVSN=02, which KIS refused from 2026-02-10 (python-kis "
    "issue #81) ⚠ whether KIS still does; passes with accept_inqr_dvsn_02"
)
LAYOUT_BUG = (
    "kis-trader 0.12.2 requires exactly 47 H0STCNT0 fields (fail-closed on any other count); "
    "the classic 46-field layout is dropped"
)
ENVIRONMENT = {"live": "real", "paper": "paper"}


@dataclass
class Rig:
    kis: KISClient
    server: SimServer
    dialect: str


def build(start_sim: StartSim, mp: pytest.MonkeyPatch, tmp: Path, dialect: str, **sim: Any) -> Rig:
    server = start_sim(env=dialect, **sim)
    environment = ENVIRONMENT[dialect]
    mp.setitem(_endpoints._BASE_URL_BY_ENVIRONMENT, environment, server.rest_url)
    mp.setitem(_endpoints._WEBSOCKET_URL_BY_ENVIRONMENT, environment, server.ws_url)
    config = server.config
    kis = KISClient(
        app_key=config.app_key,
        app_secret=config.app_secret,
        account=config.account,
        environment=environment,  # type: ignore[arg-type]
        hts_id=config.hts_id,
        config_dir=tmp,
        token_cache_dir=tmp / "tokens",
        throttle=False,  # its own pacing (1 request/s on paper); the simulator lifts the limit
    )
    return Rig(kis, server, dialect)


@pytest.fixture(scope="module", params=["live", "paper"])
def rig(
    request: pytest.FixtureRequest, start_sim: StartSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    with pytest.MonkeyPatch.context() as mp:
        built = build(start_sim, mp, tmp_path_factory.mktemp("kt"), request.param)
        yield built
        built.kis.close()


def _today() -> str:
    return datetime.now(KST).strftime("%Y%m%d")


def test_quote(rig: Rig) -> None:
    quote = rig.kis.domestic.stock(SYMBOL).quote()
    assert quote.symbol == SYMBOL and quote.current_price > 0


def test_stock_profile(rig: Rig) -> None:
    if rig.dialect == "paper":
        pytest.skip("search-stock-info is live-only at KIS (모의투자 미지원)")
    profile = rig.kis.domestic.stock(SYMBOL).profile()
    assert profile.name == "삼성전자" and profile.listed_shares and profile.listing_date


def test_product_info(rig: Rig) -> None:
    if rig.dialect == "paper":
        pytest.skip("search-info is live-only at KIS (모의투자 미지원)")
    info = rig.kis.domestic.product_info(SYMBOL)
    assert (info.symbol, info.standard_symbol) == (SYMBOL, "KR7005930003")


def test_order_book(rig: Rig) -> None:
    book = rig.kis.domestic.stock(SYMBOL).order_book()
    assert book is not None


def test_daily_bars(rig: Rig) -> None:
    bars = rig.kis.domestic.stock(SYMBOL).bars("1d", start="20000101", end=_today())
    assert len(bars) == 131 and bars[-1].timestamp.date() == datetime.now(KST).date()


def test_minute_bars(rig: Rig) -> None:
    bars = rig.kis.domestic.stock(SYMBOL).bars("1m")
    assert len(bars) > 30 and bars == sorted(bars, key=lambda bar: bar.timestamp)


def test_minute_bars_of_today_by_date(rig: Rig) -> None:
    bars = rig.kis.domestic.stock(SYMBOL).minute_bars_on(_today())
    assert len(bars) > 30


@client_bug(BALANCE_BUG)
def test_balance(rig: Rig) -> None:
    rig.kis.account.domestic.balance()


@pytest.mark.parametrize("dialect", ["live", "paper"])
def test_balance_where_inqr_dvsn_02_is_accepted(
    start_sim: StartSim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dialect: str
) -> None:
    rig = build(start_sim, monkeypatch, tmp_path, dialect, accept_inqr_dvsn_02=True)
    admin(
        rig.server,
        "account",
        {"cash": 7_000_000, "holdings": [{"symbol": SYMBOL, "qty": 3, "avg_price": 1000}]},
    )
    try:
        balance = rig.kis.account.domestic.balance()
        positions = rig.kis.account.domestic.positions()
    finally:
        rig.kis.close()
    assert balance is not None
    assert [(p.symbol, p.quantity) for p in positions] == [(SYMBOL, 3)]


def test_buy_modify_cancel_and_history(rig: Rig) -> None:
    price = lower_limit(rig.server)
    report = rig.kis.domestic.stock(SYMBOL).buy(quantity=2, limit_price=price)
    first = report.order_id
    assert orders_of(rig.server)[first]["qty"] == 2
    step = 5 if price < 2_000 else 10
    modified = rig.kis.orders.modify(report.client_order_id, limit_price=price + step)
    assert orders_of(rig.server)[first]["status"] == "replaced"
    rig.kis.orders.cancel(report.client_order_id)
    assert orders_of(rig.server)[modified.order_id]["status"] == "cancelled"
    history = rig.kis.account.domestic.order_history(start=_today(), end=_today())
    assert first in {row.order_id for row in history.orders}


def test_market_buy(rig: Rig) -> None:
    report = rig.kis.domestic.stock(SYMBOL).buy(quantity=1)
    assert orders_of(rig.server)[report.order_id]["status"] == "filled"


def test_open_orders(rig: Rig) -> None:
    if rig.dialect == "paper":
        pytest.skip("kis-trader offers no open-order query on paper (KIS: 모의투자 미지원)")
    price = lower_limit(rig.server)
    report = rig.kis.domestic.stock(SYMBOL).buy(quantity=1, limit_price=price)
    assert report.order_id in {o.order_id for o in rig.kis.account.domestic.open_orders()}


def _prices(rig: Rig) -> list[Any]:
    ws = rig.kis.realtime(reconnect=False)
    got: list[Any] = []
    ws.subscribe(tr_id="H0STCNT0", tr_key=SYMBOL, on=got.append)
    ws.start()
    try:
        wait_for(lambda: len(got) >= 3, timeout=5.0)
    finally:
        ws.stop()
    return got


@pytest.mark.parametrize(
    "layout", ["extended", pytest.param("classic", marks=client_bug(LAYOUT_BUG))]
)
@pytest.mark.parametrize("dialect", ["live", "paper"])
def test_realtime_price(
    start_sim: StartSim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dialect: str, layout: str
) -> None:
    rig = build(start_sim, monkeypatch, tmp_path, dialect, ws_layout=layout)
    try:
        got = _prices(rig)
    finally:
        rig.kis.close()
    assert {message.data.symbol for message in got} == {SYMBOL}


def test_realtime_notice(rig: Rig) -> None:
    ws = rig.kis.realtime(reconnect=False)
    tr_id = "H0STCNI0" if rig.dialect == "live" else "H0STCNI9"
    got: list[Any] = []
    ws.subscribe(tr_id=tr_id, tr_key=rig.server.config.hts_id, on=got.append)
    ws.start()
    try:
        report = rig.kis.domestic.stock(SYMBOL).buy(quantity=1)
        wait_for(lambda: len(got) >= 2, timeout=5.0)
    finally:
        ws.stop()
    assert {message.data.order_id for message in got} >= {report.order_id}
