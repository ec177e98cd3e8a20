"""mojito2 0.1.6 (sharebook-kr/mojito) against the simulator, live and paper (``mock=True``).

Pointing it here: ``KoreaInvestment.set_base_url`` hard-codes KIS's hosts, so the test
replaces it with one that sets the simulator's URL; mojito2 keeps its token in ``token.dat``
in the working directory, so each rig runs in a temporary one. ``KoreaInvestmentWS`` (live
only) hard-codes the live WebSocket host inside ``ws_client``: the test wraps
``websockets.connect`` there to reach the simulator, and sets its ``base_url`` attribute.
mojito2 builds three URLs with a doubled slash (``…//uapi/…``), which KIS serves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mojito.koreainvestment as mojito_module
import pytest
from mojito import KoreaInvestment, KoreaInvestmentWS

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

PAGING_BUG = (
    "mojito2 0.1.6 pages inquire-balance only while tr_cont is M; a first page with more "
    "after it says F (KIS portal, kis-trader's observation), so it stops after one page. "
    "It also never sends tr_cont N, so with first_page_cont=M it would ask for page 1 forever "
    "(the simulator serves a first page to CTX keys without tr_cont N ⚠)"
)


# Not a test: fetch_today_1m_ohlcv() without ``to`` takes the end time from the machine's
# local clock (naive datetime.now(), clamped to 15:30) and pages back to 09:01 without checking
# for an empty page (IndexError), so it works only on a machine set to KST during the session.
MINUTES_BUG = "mojito2 0.1.6: default minute-chart end time from the machine's local clock"


@dataclass
class Rig:
    broker: KoreaInvestment
    server: SimServer
    dialect: str
    home: Path  # the working directory, where mojito2 keeps token.dat


def build(start_sim: StartSim, mp: pytest.MonkeyPatch, tmp: Path, dialect: str, **sim: Any) -> Rig:
    server = start_sim(env=dialect, **sim)
    config = server.config
    mp.chdir(tmp)  # token.dat
    mp.setattr(
        KoreaInvestment,
        "set_base_url",
        lambda self, mock=True: setattr(self, "base_url", server.rest_url),
    )
    broker = KoreaInvestment(
        api_key=config.app_key,
        api_secret=config.app_secret,
        acc_no=config.account,
        mock=dialect == "paper",
    )
    return Rig(broker, server, dialect, tmp)


@pytest.fixture(scope="module", params=["live", "paper"])
def rig(
    request: pytest.FixtureRequest, start_sim: StartSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    with pytest.MonkeyPatch.context() as mp:
        yield build(start_sim, mp, tmp_path_factory.mktemp("mojito"), request.param)


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["rt_cd"] == "0", reply
    return reply


def test_token_is_kept_in_the_working_directory(rig: Rig) -> None:
    assert rig.broker.access_token.startswith("Bearer ") and (rig.home / "token.dat").exists()


def test_price(rig: Rig) -> None:
    output = ok(rig.broker.fetch_price(SYMBOL))["output"]
    assert int(output["stck_prpr"]) > 0


def test_daily_ohlcv_with_default_dates(rig: Rig) -> None:
    reply = ok(rig.broker.fetch_ohlcv(SYMBOL, timeframe="D"))  # a doubled slash, empty dates
    assert len(reply["output2"]) == 100


def test_recent_30_days(rig: Rig) -> None:
    assert len(ok(rig.broker.fetch_ohlcv_recent30(SYMBOL))["output"]) == 30


def test_todays_minutes(rig: Rig) -> None:
    # The default end time comes from the machine's clock (MINUTES_BUG): pass the market's.
    to = rig.server.call(lambda ex: ex.now()).strftime("%H%M%S")
    result = rig.broker.fetch_today_1m_ohlcv(SYMBOL, to=to)  # a doubled slash; pages back
    hours = [row["stck_cntg_hour"] for row in result["output2"]]
    assert len(hours) >= 300 and min(hours) == "090100"  # it stops at 09:01


def test_buying_power(rig: Rig) -> None:
    reply = ok(rig.broker.check_buy_order(SYMBOL, lower_limit(rig.server), "00"))
    assert int(reply["output"]["max_buy_qty"]) > 0  # a doubled slash


def test_balance(rig: Rig) -> None:
    admin(rig.server, "account", {"holdings": [{"symbol": SYMBOL, "qty": 4, "avg_price": 1000}]})
    balance = rig.broker.fetch_balance()
    held = {row["pdno"]: int(row["hldg_qty"]) for row in balance["output1"]}
    assert held[SYMBOL] >= 4 and balance["output2"]


def _balance_pages(rig: Rig) -> list[str]:
    symbols = [s["symbol"] for s in admin(rig.server, "symbols")["symbols"]][:25]
    holdings = [{"symbol": s, "qty": 1, "avg_price": 1000} for s in symbols]
    admin(rig.server, "account", {"holdings": holdings, "replace_holdings": True})
    return [row["pdno"] for row in rig.broker.fetch_balance()["output1"]]


@client_bug(PAGING_BUG)
def test_balance_pages_beyond_the_first(rig: Rig) -> None:
    if rig.dialect == "live":
        pytest.xfail("a live page holds 50 rows: 25 holdings fit on one (nothing to page)")
    assert len(_balance_pages(rig)) == 25


def test_orders_modify_cancel(rig: Rig) -> None:
    price = lower_limit(rig.server)
    placed = ok(rig.broker.create_limit_buy_order(SYMBOL, price, 2))["output"]
    odno, branch = placed["ODNO"], placed["KRX_FWDG_ORD_ORGNO"]
    step = 5 if price < 2_000 else 10
    modified = ok(rig.broker.modify_order(branch, odno, "00", price + step, 2, True))["output"]
    assert orders_of(rig.server)[odno]["status"] == "replaced"
    ok(rig.broker.cancel_order(branch, modified["ODNO"], 2, True))
    assert orders_of(rig.server)[modified["ODNO"]]["status"] == "cancelled"


def test_market_buy(rig: Rig) -> None:
    odno = ok(rig.broker.create_market_buy_order(SYMBOL, 1))["output"]["ODNO"]
    assert orders_of(rig.server)[odno]["status"] == "filled"


def test_open_orders(rig: Rig) -> None:
    if rig.dialect == "paper":
        pytest.skip("mojito2 sends the live-only TTTC8036R on paper too (no paper variant)")
    odno = ok(rig.broker.create_limit_buy_order(SYMBOL, lower_limit(rig.server), 1))["output"]
    query = {"CTX_AREA_FK100": "", "CTX_AREA_NK100": "", "INQR_DVSN_1": "0", "INQR_DVSN_2": "0"}
    reply = ok(rig.broker.fetch_open_order(query))
    assert odno["ODNO"] in {row["odno"] for row in reply["output"]}


def _stream(server: SimServer, user_id: str | None) -> tuple[KoreaInvestmentWS, threading.Thread]:
    config = server.config
    ws = KoreaInvestmentWS(
        config.app_key, config.app_secret, ["H0STCNT0", "H0STASP0"], [SYMBOL], user_id
    )
    ws.base_url = server.rest_url
    thread = threading.Thread(target=lambda: _run(ws), daemon=True)
    thread.start()
    return ws, thread


def _run(ws: KoreaInvestmentWS) -> None:
    try:
        asyncio.run(ws.ws_client())
    except Exception:  # the test drops the socket to end mojito2's endless loop
        return


@pytest.fixture
def live_ws(start_sim: StartSim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Rig]:
    rig = build(start_sim, monkeypatch, tmp_path, "live")
    connect = mojito_module.websockets.connect
    monkeypatch.setattr(
        mojito_module.websockets, "connect", lambda uri, **kw: connect(rig.server.ws_url, **kw)
    )
    yield rig
    admin(rig.server, "faults", {"drop_ws": True})


def _drain(ws: KoreaInvestmentWS, kinds: set[str]) -> dict[str, list[dict[str, str]]]:
    seen: dict[str, list[dict[str, str]]] = {}
    wait_for(lambda: _take(ws, seen) >= kinds, timeout=5.0)
    return seen


def _take(ws: KoreaInvestmentWS, seen: dict[str, list[dict[str, str]]]) -> set[str]:
    while not ws.queue.empty():
        kind, data = ws.queue.get()
        seen.setdefault(kind, []).append(data)
    return set(seen)


def test_realtime_price_and_book(live_ws: Rig) -> None:
    ws, _ = _stream(live_ws.server, None)
    seen = _drain(ws, {"체결", "호가"})
    tick = seen["체결"][0]
    assert tick["유가증권단축종목코드"] == SYMBOL and int(tick["주식현재가"]) > 0


def test_realtime_notice(live_ws: Rig) -> None:
    ws, _ = _stream(live_ws.server, live_ws.server.config.hts_id)
    _drain(ws, {"체결"})
    odno = ok(live_ws.broker.create_market_buy_order(SYMBOL, 1))["output"]["ODNO"]
    notices = _drain(ws, {"체잔"})["체잔"]
    assert odno in {n["주문번호"] for n in notices}
