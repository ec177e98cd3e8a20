"""Orders over HTTP: reply formats, sessions, buying power, fills, fees, modify and cancel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.krx import ticks_away
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, all_strings

FEES = FeeSchedule()


def _hold(kis: Kis, symbol: str, price: int | None = None) -> int:
    """Freeze a symbol's price (at ``price`` or its last) so a test knows where it trades."""
    target = price or int(kis.price(symbol)["stck_prpr"])
    kis.admin("price", {"symbol": symbol, "price": target, "hold": True})
    return target


def _order_of(kis: Kis, odno: str) -> dict[str, Any]:
    return next(o for o in kis.state()["orders"] if o["odno"] == odno)


def test_order_reply_has_the_documented_formats(kis: Kis) -> None:
    response = kis.order("buy", "005930", "01", 1)
    body = response.json()
    out = body["output"]
    assert (body["rt_cd"], body["msg_cd"]) == ("0", "APBK0013") and all_strings(body)
    assert re.fullmatch(r"\d{10}", out["ODNO"]) and out["ODNO"].startswith("0")
    assert out["KRX_FWDG_ORD_ORGNO"] == "06590" and re.fullmatch(
        r"\d{5}", out["KRX_FWDG_ORD_ORGNO"]
    )
    assert re.fullmatch(r"\d{6}", out["ORD_TMD"])
    sent = datetime.now(KST)
    stamp = datetime.strptime(out["ORD_TMD"] + "+0900", "%H%M%S%z").timetz()
    assert abs((datetime.combine(sent.date(), stamp) - sent).total_seconds()) < 5
    second = kis.order("buy", "005930", "01", 1, old_tr=True).json()["output"]["ODNO"]
    assert int(second) == int(out["ODNO"]) + 1


def test_paper_answers_paper_codes_and_refuses_ioc(paper: Kis) -> None:
    body = paper.order("buy", "005930", "01", 1).json()
    assert (body["msg_cd"], body["output"]["KRX_FWDG_ORD_ORGNO"]) == ("40600000", "00950")
    ioc = paper.order("buy", "005930", "11", 1, int(paper.price("005930")["stck_prpr"])).json()
    assert ioc["rt_cd"] == "1" and ioc["msg_cd"] == "40050000"


def test_orders_only_during_the_session_on_paper(paper: Kis) -> None:
    later = datetime.now(KST) + timedelta(minutes=30)
    paper.admin(
        "session",
        {
            "opens_at": later.isoformat(),
            "continuous_ends_at": (later + timedelta(minutes=5)).isoformat(),
        },
    )
    before = paper.order("buy", "005930", "01", 1).json()
    assert (before["rt_cd"], before["msg_cd"]) == ("1", "40570000")
    earlier = datetime.now(KST) - timedelta(minutes=30)
    paper.admin(
        "session",
        {
            "opens_at": earlier.isoformat(),
            "continuous_ends_at": (earlier + timedelta(minutes=5)).isoformat(),
        },
    )
    after = paper.order("buy", "005930", "01", 1).json()
    assert (after["rt_cd"], after["msg_cd"]) == ("1", "40580000")
    assert paper.price("005930")["stck_prpr"] != "0"  # quotes stay readable


def test_market_buy_fills_and_books_fees_and_holdings(kis: Kis) -> None:
    price = _hold(kis, "000660")
    odno = kis.order("buy", "000660", "01", 10).json()["output"]["ODNO"]
    order = _order_of(kis, odno)
    fill_price = order["fills"][0]["price"]
    assert order["status"] == "filled" and order["filled_qty"] == 10
    assert fill_price in (price, ticks_away(price, 1))
    assert order["fills"][0]["commission"] == FEES.commission(10 * fill_price)
    state = kis.state()
    held = next(h for h in state["holdings"] if h["symbol"] == "000660")
    assert (held["qty"], held["avg_price"]) == (10, fill_price)
    assert state["cash"]["cash_d2"] == 10_000_000 - FEES.buy_cash_needed(10 * fill_price)
    assert state["cash"]["cash_d0"] == 10_000_000


def test_sell_pays_tax_and_realizes_pnl(kis: Kis) -> None:
    kis.admin("account", {"holdings": [{"symbol": "000660", "qty": 5, "avg_price": 10_000}]})
    price = _hold(kis, "000660")
    odno = kis.order("sell", "000660", "00", 5, ticks_away(price, -3)).json()["output"]["ODNO"]
    fill = _order_of(kis, odno)["fills"][0]
    notional = 5 * fill["price"]
    assert fill["tax"] == FEES.sell_tax(notional) and fill["tax"] > 0
    pnl = kis.state()["realized_pnl"]["000660"]
    assert pnl == notional - 50_000 - fill["commission"] - fill["tax"]


def test_limit_order_rests_until_the_market_trades_through_it(kis: Kis) -> None:
    price = _hold(kis, "000660")
    below = ticks_away(price, -5)
    odno = kis.order("buy", "000660", "00", 3, below).json()["output"]["ODNO"]
    assert _order_of(kis, odno)["status"] == "open"
    kis.admin("price", {"symbol": "000660", "price": ticks_away(below, -1), "hold": True})
    order = _order_of(kis, odno)
    assert order["status"] == "filled" and order["fills"][0]["price"] == below


def test_buy_beyond_cash_is_refused_and_market_buys_reserve_at_the_upper_limit(
    start_sim: StartSim,
) -> None:
    kis = start_sim(cash=1_000_000)
    symbol = kis.symbol(1)
    price = _hold(kis, symbol["symbol"])
    at_last = 1_000_000 // (price + price // 100)
    at_upper = 1_000_000 // symbol["upper"]
    assert at_upper < at_last
    market = kis.order("buy", symbol["symbol"], "01", at_upper + 1).json()
    assert (market["rt_cd"], market["msg_cd"]) == ("1", "APBK0952")
    limit = kis.order("buy", symbol["symbol"], "00", at_last + 5, price).json()
    assert limit["msg_cd"] == "APBK0952"


def test_open_buy_orders_reduce_buying_power(kis: Kis) -> None:
    price = _hold(kis, "005930")
    params = {
        **kis.account(),
        "PDNO": "005930",
        "ORD_UNPR": str(price),
        "ORD_DVSN": "00",
        "CMA_EVLU_AMT_ICLD_YN": "N",
        "OVRS_ICLD_YN": "N",
    }
    before = kis.get("/trading/inquire-psbl-order", "TTTC8908R", params).json()["output"]
    low = ticks_away(price, -10)
    kis.order("buy", "005930", "00", 10, low)
    after = kis.get("/trading/inquire-psbl-order", "TTTC8908R", params).json()["output"]
    reserved = FEES.buy_cash_needed(10 * low)
    assert int(before["ord_psbl_cash"]) - int(after["ord_psbl_cash"]) == reserved
    power = int(after["ord_psbl_cash"])
    qty = power // price
    while FEES.buy_cash_needed(qty * price) > power:
        qty -= 1
    assert int(after["nrcvb_buy_qty"]) == qty > 0


def test_modify_then_cancel_with_new_order_numbers(kis: Kis) -> None:
    price = _hold(kis, "005930")
    odno = kis.order("buy", "005930", "00", 4, ticks_away(price, -10)).json()["output"]["ODNO"]
    modified = kis.revise(str(int(odno)), "01", "00", 0, ticks_away(price, -8)).json()
    assert modified["rt_cd"] == "0"
    new_odno = modified["output"]["ODNO"]
    assert new_odno != odno and _order_of(kis, odno)["status"] == "replaced"
    moved = _order_of(kis, new_odno)
    assert (moved["orgn_odno"], moved["qty"], moved["price"]) == (odno, 4, ticks_away(price, -8))
    cancelled = kis.revise(new_odno, "02").json()
    assert cancelled["rt_cd"] == "0" and cancelled["output"]["ODNO"] != new_odno
    assert _order_of(kis, new_odno)["status"] == "cancelled"
    again = kis.revise(new_odno, "02").json()
    assert again["rt_cd"] == "7" and again["msg_cd"] == "APBK0344"  # a refusal: no data


def test_partial_cancel_keeps_the_rest_working(kis: Kis) -> None:
    price = _hold(kis, "005930")
    odno = kis.order("buy", "005930", "00", 5, ticks_away(price, -10)).json()["output"]["ODNO"]
    assert kis.revise(odno, "02", qty=2, all_qty=False).json()["rt_cd"] == "0"
    order = _order_of(kis, odno)
    assert (order["status"], order["remaining_qty"], order["cancelled_qty"]) == ("open", 3, 2)


@pytest.mark.parametrize("ord_dvsn", ["11", "12"])
def test_ioc_and_fok_do_not_rest_on_live(kis: Kis, ord_dvsn: str) -> None:
    price = _hold(kis, "005930")
    odno = kis.order("buy", "005930", ord_dvsn, 5, ticks_away(price, -5)).json()["output"]["ODNO"]
    order = _order_of(kis, odno)
    assert (order["status"], order["filled_qty"], order["cancelled_qty"]) == ("cancelled", 0, 5)


def test_sell_without_holding_is_refused(kis: Kis) -> None:
    body = kis.order("sell", "005930", "01", 1).json()
    assert (body["rt_cd"], body["msg_cd"]) == ("1", "APBK0400")
