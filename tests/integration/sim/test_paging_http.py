"""tr_cont paging over HTTP: inquire-balance and inquire-daily-ccld."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from stock_manager.domain.clock import KST
from stock_manager.domain.krx import ticks_away
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis

Fetch = Callable[[str, str, str], httpx.Response]


def _walk(fetch: Fetch, rows_key: str) -> tuple[list[str], list[list[dict[str, str]]]]:
    """Follow tr_cont like a KIS client: F/M means more, D/E means last."""
    conts, pages = [], []
    response = fetch("", "", "")
    while True:
        body = response.json()
        assert body["rt_cd"] == "0", body
        conts.append(response.headers["tr_cont"])
        pages.append(body[rows_key])
        if response.headers["tr_cont"] not in ("F", "M"):
            return conts, pages
        response = fetch("N", body["ctx_area_fk100"], body["ctx_area_nk100"])


def test_paper_balance_pages_by_twenty(start_sim: StartSim) -> None:
    kis = start_sim(env="paper", symbols=45)
    holdings = [
        {"symbol": s["symbol"], "qty": 1 + i, "avg_price": s["prev_close"]}
        for i, s in enumerate(kis.admin("symbols")["symbols"])
    ]
    kis.admin("account", {"holdings": holdings})
    conts, pages = _walk(kis.balance, "output1")
    assert conts == ["F", "M", "E"] and [len(p) for p in pages] == [20, 20, 5]
    codes = [row["pdno"] for page in pages for row in page]
    assert sorted(codes) == sorted(h["symbol"] for h in holdings) and len(set(codes)) == 45
    summary = kis.balance().json()["output2"]
    assert isinstance(summary, list) and len(summary) == 1


def test_single_page_answers_d(kis: Kis) -> None:
    response = kis.balance()
    assert response.headers["tr_cont"] == "D" and len(response.json()["ctx_area_nk100"]) == 100


def test_paper_daily_ccld_pages_by_fifteen_without_gaps(paper: Kis) -> None:
    symbol = paper.symbol(2)
    paper.admin("price", {"symbol": symbol["symbol"], "price": symbol["last"], "hold": True})
    low = ticks_away(symbol["last"], -5)
    sent = [
        paper.order("buy", symbol["symbol"], "00", 1, low).json()["output"]["ODNO"]
        for _ in range(32)
    ]
    today = datetime.now(KST).strftime("%Y%m%d")

    def fetch(tr_cont: str, fk: str, nk: str) -> httpx.Response:
        return paper.daily_ccld(today, tr_cont, fk, nk)

    conts, pages = _walk(fetch, "output1")
    assert conts == ["F", "M", "E"] and [len(p) for p in pages] == [15, 15, 2]
    assert [row["odno"] for page in pages for row in page] == sent
    descending = paper.daily_ccld(today, order="00").json()["output1"]
    assert descending[0]["odno"] == sent[-1]
    unfilled = paper.daily_ccld(today, ccld="02").json()
    assert len(unfilled["output1"]) == 15 and unfilled["output2"]["tot_ord_qty"] == "32"


def test_a_bad_continuation_key_is_an_input_error(paper: Kis) -> None:
    today = datetime.now(KST).strftime("%Y%m%d")
    response = paper.daily_ccld(today, "N", "x", "not-a-key")
    assert response.json()["rt_cd"] == "2" and "CTX_AREA_NK100" in response.json()["msg1"]


def test_without_tr_cont_n_the_first_page_comes_back(start_sim: StartSim) -> None:
    kis = start_sim(env="paper", symbols=25)
    kis.admin(
        "account",
        {
            "holdings": [
                {"symbol": s["symbol"], "qty": 1, "avg_price": 1000}
                for s in kis.admin("symbols")["symbols"]
            ]
        },
    )
    first = kis.balance().json()
    again = kis.balance("", first["ctx_area_fk100"], first["ctx_area_nk100"]).json()
    assert again["output1"] == first["output1"]
