"""Admin endpoints and the session lifecycle: closing call, uncross and end-of-day expiry."""

from __future__ import annotations

import time
from datetime import datetime

from stock_manager.domain.krx import ticks_away
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis


def _wait_phase(kis: Kis, phase: str, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while kis.admin("clock")["phase"] != phase:
        assert time.monotonic() < deadline, f"never reached {phase}"
        time.sleep(0.05)


def test_clock_and_state_shapes(kis: Kis) -> None:
    clock = kis.admin("clock")
    assert clock["phase"] == "continuous" and clock["candle_seconds"] == 5.0
    opens = datetime.fromisoformat(clock["session"]["opens_at"])
    ends = datetime.fromisoformat(clock["session"]["continuous_ends_at"])
    assert (ends - opens).total_seconds() == 600 and opens.utcoffset().total_seconds() == 9 * 3600
    state = kis.state()
    assert set(state) >= {"orders", "fills", "holdings", "cash", "realized_pnl", "clock"}
    assert state["cash"] == {
        **state["cash"],
        "cash_d0": 10_000_000,
        "cash_d2": 10_000_000,
        "reserved": 0,
        "buying_power": 10_000_000,
    }


def test_state_lists_orders_fills_holdings_and_pnl(kis: Kis) -> None:
    kis.admin("price", {"symbol": "005930", "price": kis.symbol(0)["last"], "hold": True})
    kis.order("buy", "005930", "01", 4)
    kis.order("sell", "005930", "01", 4)
    state = kis.state()
    buy, sell = state["orders"]
    assert (buy["odno"], buy["side"], buy["ord_dvsn"], buy["status"]) == (
        "0000000001",
        "buy",
        "01",
        "filled",
    )
    assert sell["fills"][0]["tax"] > 0 and len(state["fills"]) == 2
    held = state["holdings"][0]
    assert (held["symbol"], held["qty"], held["today_buy_qty"], held["today_sell_qty"]) == (
        "005930",
        0,
        4,
        4,
    )
    assert state["realized_pnl"]["005930"] == state["realized_pnl_total"] < 0


def test_account_seeding_sets_cash_and_orphan_holdings(kis: Kis) -> None:
    state = kis.admin(
        "account",
        {"cash": 5_000_000, "holdings": [{"symbol": "000660", "qty": 7, "avg_price": 12_345}]},
    )
    assert state["cash"]["cash_d0"] == 5_000_000
    assert state["holdings"] == [
        {**state["holdings"][0], "symbol": "000660", "qty": 7, "avg_price": 12_345.0}
    ]
    rows = kis.balance().json()["output1"]
    assert (rows[0]["pdno"], rows[0]["hldg_qty"], rows[0]["pchs_avg_pric"]) == (
        "000660",
        "7",
        "12345.0000",
    )
    replaced = kis.admin(
        "account",
        {"holdings": [{"symbol": "005930", "qty": 1, "avg_price": 100}], "replace_holdings": True},
    )
    assert [h["symbol"] for h in replaced["holdings"]] == ["005930"]


def test_price_path_hold_and_release(kis: Kis) -> None:
    last = kis.symbol(0)["last"]
    path = [ticks_away(last, -1), ticks_away(last, -2), ticks_away(last, -3)]
    before = datetime.fromisoformat(kis.admin("clock")["now"])
    answer = kis.admin("price", {"symbol": "005930", "path": path, "hold": True})
    assert answer["traded"] and answer["hold"]
    traded_at = datetime.fromisoformat(answer["traded_at"])
    assert before <= traded_at <= datetime.fromisoformat(kis.admin("clock")["now"])
    time.sleep(0.5)
    assert int(kis.price("005930")["stck_prpr"]) == path[-1]
    beyond = ticks_away(kis.symbol(0)["upper"], 1)
    refused = kis.http.post("/_sim/price", json={"symbol": "005930", "price": beyond})
    assert refused.status_code == 400 and "outside" in refused.json()["error"]
    assert kis.admin("price", {"symbol": "005930", "release": True})["hold"] is False


def test_reset_forgets_orders(kis: Kis) -> None:
    kis.order("buy", "005930", "01", 1)
    state = kis.admin("reset", {"cash": 3_000_000})
    assert state["orders"] == [] and state["cash"]["cash_d0"] == 3_000_000


def test_rate_limit_can_be_changed_at_run_time(start_sim: StartSim) -> None:
    kis = start_sim(rate_limit=None)
    assert kis.admin("limits")["rate_limit"] == 20.0
    assert kis.admin("limits", {"rate_limit": 0})["rate_limit"] == 0.0


def test_closing_call_uncross_and_end_of_day_expiry(start_sim: StartSim) -> None:
    kis = start_sim(session_minutes=0.03, auction_seconds=0.8)
    symbol = kis.symbol(0)
    price = symbol["last"]
    kis.admin("price", {"symbol": "005930", "price": price, "hold": True})
    resting = kis.order("buy", "005930", "00", 2, ticks_away(price, -5)).json()["output"]["ODNO"]
    _wait_phase(kis, "auction")
    best = kis.order("buy", "005930", "03", 1).json()
    assert best["rt_cd"] == "1"  # 최유리 is not allowed in the closing call
    crossing = kis.order("buy", "005930", "00", 3, ticks_away(price, 2)).json()["output"]["ODNO"]
    market = kis.order("buy", "005930", "01", 1).json()["output"]["ODNO"]
    orders = {o["odno"]: o for o in kis.state()["orders"]}
    assert orders[crossing]["status"] == "open"  # nothing matches during the call
    _wait_phase(kis, "closed")
    orders = {o["odno"]: o for o in kis.state()["orders"]}
    assert orders[crossing]["status"] == "filled"
    assert orders[crossing]["fills"][0]["price"] == price  # the single closing price
    assert orders[market]["fills"][0]["price"] == price
    assert (orders[resting]["status"], orders[resting]["cancelled_qty"]) == ("cancelled", 2)
    after = kis.order("buy", "005930", "01", 1).json()
    assert (after["rt_cd"], after["msg_cd"]) == ("1", "APBK0919")
    assert kis.price("005930")["stck_prpr"] == str(price)


def test_session_can_be_reopened_at_run_time(start_sim: StartSim) -> None:
    kis = start_sim(session_minutes=0.01, auction_seconds=0.1)
    _wait_phase(kis, "closed")
    clock = kis.admin("session", {"minutes": 1, "auction_seconds": 5})
    assert clock["phase"] == "continuous"
    assert kis.order("buy", "005930", "01", 1).json()["rt_cd"] == "0"
