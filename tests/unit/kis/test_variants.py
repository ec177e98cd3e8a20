"""Our client against each unconfirmed (⚠) KIS behaviour the simulator can show (issue 15):
real-time records with trailing fields (47/63), either first-page letter, rt_cd 7."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest

from stock_manager.adapters.kis.broker import KisBroker
from stock_manager.adapters.kis.errors import KISOrderOutcomeUnknown, KISRejectedError
from stock_manager.adapters.kis.notices import parse_book, parse_tick, split_frame
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.domain.clock import KST
from tests.unit.kis.conftest import Harness, reply

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=KST)
TODAY = NOW.date()


def rest(h: Harness) -> KisRestClient:
    return KisRestClient(h.http, now=lambda: NOW)


def tick(symbol: str, price: int, size: int) -> list[str]:
    """An H0STCNT0 record of ``size`` fields (46 classic, 47 after-market era)."""
    f = ["0"] * size
    f[0], f[1], f[2], f[10], f[11], f[12], f[13] = symbol, "093015", str(price), "1", "1", "3", "9"
    f[33] = "20261120"
    if size > 46:
        f[46] = "2"  # MARKET_CLS_CODE
    return f


def book(size: int) -> list[str]:
    """An H0STASP0 record of ``size`` fields (59 classic, 63 after-market era)."""
    f = ["0"] * size
    f[0], f[1] = "005930", "093015"
    for i in range(10):
        f[3 + i], f[13 + i] = str(71600 + 100 * i), str(71500 - 100 * i)
        f[23 + i], f[33 + i] = str(10 + i), str(20 + i)
    return f


@pytest.mark.parametrize("size", [46, 47])
def test_trade_records_of_either_layout_split_and_parse(size: int) -> None:
    payload = "^".join(tick("005930", 71500, size) + tick("000660", 131000, size))
    frame = split_frame("0|H0STCNT0|002|" + payload)
    assert [len(record) for record in frame.records] == [size, size]
    ticks = [parse_tick(record, TODAY) for record in frame.records]
    assert [(t.symbol, t.price, t.volume) for t in ticks] == [
        ("005930", 71500, 3),
        ("000660", 131000, 3),
    ]


@pytest.mark.parametrize("size", [59, 63])
def test_book_records_of_either_layout_parse(size: int) -> None:
    (record,) = split_frame("0|H0STASP0|001|" + "^".join(book(size))).records
    parsed = parse_book(record, TODAY)
    assert (parsed.best_ask, parsed.best_bid, parsed.bids[0].quantity) == (71600, 71500, 20)


@pytest.mark.parametrize("first", ["F", "M"])
def test_either_first_page_letter_pages_on(harness: Harness, first: str) -> None:
    harness.kis.on(
        "inquire-balance",
        reply("balance_page1", tr_cont=first),
        reply("balance_page2", tr_cont="E"),
    )
    balance = rest(harness).balance()
    assert [h.symbol for h in balance.holdings] == ["005930", "000660", "035420"]
    assert len(harness.kis.calls("inquire-balance")) == 2


def _no_data(code: str) -> httpx.Response:
    return httpx.Response(
        200, json={"rt_cd": "7", "msg_cd": code, "msg1": "조회할 내용이 없습니다"}
    )


def test_rt_cd_7_no_data_on_a_query_is_an_empty_result(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", _no_data("KIOK0560"))
    assert rest(harness).daily_orders(date(2026, 11, 20)) == []


def test_rt_cd_7_with_a_query_error_code_is_not_mistaken_for_no_data(harness: Harness) -> None:
    error = {"rt_cd": "7", "msg_cd": "APBK1350", "msg1": "조회 오류입니다. 다시 시도하세요."}
    harness.kis.on("inquire-balance", httpx.Response(200, json=error))
    with pytest.raises(KISRejectedError) as caught:
        rest(harness).balance()
    assert caught.value.code == "APBK1350"


def test_a_cancel_refused_with_rt_cd_7_is_a_refusal_of_that_cancel(harness: Harness) -> None:
    refused = {"rt_cd": "7", "msg_cd": "APBK0344", "msg1": "정정/취소할 수량이 없습니다."}
    harness.kis.on("order-rvsecncl", httpx.Response(200, json=refused))
    client = KisBroker(rest(harness), KisOrderClient(harness.http, now=lambda: NOW))
    with pytest.raises(KISRejectedError) as caught:
        client.cancel("0000117057", "00950")
    assert not isinstance(caught.value, KISOrderOutcomeUnknown)
    assert caught.value.code == "APBK0344" and "정정/취소할 수량이 없습니다" in str(caught.value)
    assert len(harness.kis.calls("order-rvsecncl")) == 1  # a refusal is not retried
