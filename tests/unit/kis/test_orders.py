"""Orders: what is sent, when the outcome is unknown, and what is never retried."""

from __future__ import annotations

import json

import httpx
import pytest

from stock_manager.adapters.kis.errors import (
    KISConfigError,
    KISOrderOutcomeUnknown,
    KISRateLimitError,
    KISRejectedError,
    KISTransientError,
    KISValidationError,
)
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.domain.broker import OrderOutcomeUnknown, OrderRequest
from stock_manager.domain.orders import OrderType, Side
from tests.unit.kis.conftest import Harness, make_harness, reply

BUY = OrderRequest("005930", Side.BUY, 10, OrderType.LIMIT, 71500)


def orders(h: Harness) -> KisOrderClient:
    return KisOrderClient(h.http)


def sent(h: Harness, name: str = "order-cash") -> list[dict[str, str]]:
    return [json.loads(r.content) for r in h.kis.calls(name)]


def test_a_buy_sends_the_documented_body_and_returns_the_ack(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("order_cash"))
    ack = orders(harness).submit(BUY)
    assert (ack.broker_order_no, ack.branch) == ("0000117057", "00950")
    assert ack.ordered_at.strftime("%H%M%S") == "093012"
    request = harness.kis.calls("order-cash")[0]
    assert request.method == "POST"
    assert request.headers["tr_id"] == "VTTC0012U"
    assert sent(harness)[0] == {
        "CANO": "50071234",
        "ACNT_PRDT_CD": "01",
        "PDNO": "005930",
        "ORD_DVSN": "00",
        "ORD_QTY": "10",
        "ORD_UNPR": "71500",
        "EXCG_ID_DVSN_CD": "KRX",
        "SLL_TYPE": "",
        "CNDT_PRIC": "",
    }


def test_a_market_sell_sends_price_zero_and_the_sell_tr_id(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("order_cash"))
    orders(harness).submit(OrderRequest("005930", Side.SELL, 3, OrderType.MARKET, 71500))
    assert harness.kis.calls("order-cash")[0].headers["tr_id"] == "VTTC0011U"
    body = sent(harness)[0]
    assert (body["ORD_DVSN"], body["ORD_UNPR"], body["SLL_TYPE"]) == ("01", "0", "01")


def test_cancel_all_sends_what_kis_documents(harness: Harness) -> None:
    harness.kis.on("order-rvsecncl", reply("order_rvsecncl"))
    ack = orders(harness).cancel("0000117057", "00950")
    assert ack.broker_order_no == "0000117058"  # lower-case output keys read too
    body = sent(harness, "order-rvsecncl")[0]
    assert body["RVSE_CNCL_DVSN_CD"] == "02"
    assert (body["ORD_QTY"], body["ORD_UNPR"], body["QTY_ALL_ORD_YN"]) == ("0", "0", "Y")
    assert (body["ORGN_ODNO"], body["KRX_FWDG_ORD_ORGNO"]) == ("0000117057", "00950")
    assert harness.kis.calls("order-rvsecncl")[0].headers["tr_id"] == "VTTC0013U"


def test_partial_cancel_and_modify(harness: Harness) -> None:
    harness.kis.on("order-rvsecncl", reply("order_rvsecncl"))
    orders(harness).cancel("0000117057", "00950", quantity=4)
    new = OrderRequest("005930", Side.BUY, 6, OrderType.LIMIT, 71400)
    orders(harness).modify("0000117057", "00950", new, all_remaining=False)
    cancel, modify = sent(harness, "order-rvsecncl")
    assert (cancel["ORD_QTY"], cancel["QTY_ALL_ORD_YN"]) == ("4", "N")
    assert (modify["RVSE_CNCL_DVSN_CD"], modify["ORD_QTY"], modify["ORD_UNPR"]) == (
        "01",
        "6",
        "71400",
    )


def test_live_refuses_orders_unless_armed() -> None:
    h = make_harness(name="live", dialect="live", trading_armed=False)
    with pytest.raises(KISConfigError, match="TRADING_ARMED"):
        orders(h).submit(BUY)
    assert h.kis.requests == []  # not even a token


def test_paper_refuses_order_types_it_lacks_before_sending(harness: Harness) -> None:
    with pytest.raises(KISValidationError, match="00-04"):
        orders(harness).submit(OrderRequest("005930", Side.BUY, 1, OrderType.IOC_LIMIT, 71500))
    assert harness.kis.requests == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("timed out"),
    ],
)
def test_a_send_that_may_have_arrived_is_outcome_unknown_and_not_retried(
    harness: Harness, failure: Exception
) -> None:
    harness.kis.on("order-cash", failure)
    with pytest.raises(KISOrderOutcomeUnknown) as caught:
        orders(harness).submit(BUY)
    assert isinstance(caught.value, OrderOutcomeUnknown)
    assert len(harness.kis.calls("order-cash")) == 1


@pytest.mark.parametrize("name", ["error_egw00001", "error_40580000"])
def test_a_5xx_reply_is_outcome_unknown(harness: Harness, name: str) -> None:
    harness.kis.on("order-cash", reply(name, 500))
    with pytest.raises(KISOrderOutcomeUnknown):
        orders(harness).submit(BUY)
    assert len(harness.kis.calls("order-cash")) == 1


def test_a_5xx_without_a_body_is_outcome_unknown(harness: Harness) -> None:
    harness.kis.on("order-cash", httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(KISOrderOutcomeUnknown):
        orders(harness).submit(BUY)


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("timed out")]
)
def test_failing_to_connect_is_not_ambiguous(harness: Harness, failure: Exception) -> None:
    harness.kis.on("order-cash", failure)
    with pytest.raises(KISTransientError, match="not sent"):
        orders(harness).submit(BUY)
    assert len(harness.kis.calls("order-cash")) == 1  # and it is not retried either


def test_egw00201_means_not_executed_so_the_order_is_retried(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("error_egw00201", 500), reply("order_cash"))
    ack = orders(harness).submit(BUY)
    assert ack.broker_order_no == "0000117057"
    assert len(harness.kis.calls("order-cash")) == 2
    assert harness.sleeps.calls and harness.sleeps.calls[0] > 0


def test_egw00201_past_the_budget_raises_rate_limited() -> None:
    h = make_harness()
    h.http.retry = type(h.http.retry)(throttle_budget=0.0)
    h.kis.on("order-cash", reply("error_egw00201", 500))
    with pytest.raises(KISRateLimitError):
        orders(h).submit(BUY)
    assert len(h.kis.calls("order-cash")) == 1


def test_an_expired_token_on_an_order_reissues_and_resends_once(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("error_egw00123", 500), reply("order_cash"))
    orders(harness).submit(BUY)
    assert harness.kis.tokens_issued == 2
    assert len(harness.kis.calls("order-cash")) == 2


def test_a_business_rejection_carries_its_code(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("error_40580000"))
    with pytest.raises(KISRejectedError) as caught:
        orders(harness).submit(BUY)
    assert caught.value.code == "40580000"
    assert len(harness.kis.calls("order-cash")) == 1


def test_accepted_without_an_order_number_is_outcome_unknown(harness: Harness) -> None:
    harness.kis.on("order-cash", reply("order_no_odno"))
    with pytest.raises(KISOrderOutcomeUnknown, match="without a usable order number"):
        orders(harness).submit(BUY)


def test_nothing_left_to_cancel_is_a_rejection(harness: Harness) -> None:
    harness.kis.on("order-rvsecncl", reply("error_40330000"))
    with pytest.raises(KISRejectedError) as caught:
        orders(harness).cancel("0000117057", "00950")
    assert caught.value.code == "40330000"
