"""Every shape an order reply can take, and what it means (docs/kis-adapter.md, "Order
replies"): only a KIS envelope that says no is a refusal; anything else may hide an order
that exists, so the outcome is unknown and the resolver decides."""

from __future__ import annotations

import json

import httpx
import pytest

from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.domain.broker import (
    BrokerError,
    BrokerRejected,
    OrderAck,
    OrderOutcomeUnknown,
    OrderRequest,
)
from stock_manager.domain.orders import OrderType, Side
from tests.unit.kis.conftest import fixture, make_harness

SELL = OrderRequest("005930", Side.SELL, 398, OrderType.BEST, 0)
HTML = b"<html><body><h1>Bad Gateway</h1></body></html>"
ACCEPTED = json.dumps(fixture("order_cash")).encode()


def raw(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": content_type})


def envelope(status: int, **body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


UNKNOWN_SHAPES = {
    "HTTP 500 EGW00001 (a server error after routing)": envelope(
        500, rt_cd="1", msg_cd="EGW00001", msg1="일시적인 오류"
    ),
    "HTTP 500 with no body": raw(500, b""),
    "HTTP 502 HTML page": raw(502, HTML, "text/html"),
    "HTTP 404 HTML page": raw(404, HTML, "text/html"),
    "HTTP 404 JSON without an envelope": envelope(404, message="Not Found"),
    "HTTP 200 HTML page": raw(200, HTML, "text/html"),
    "HTTP 200 empty body": raw(200, b""),
    "HTTP 200 truncated JSON": raw(200, ACCEPTED[: len(ACCEPTED) // 2]),
    "HTTP 200 undecodable bytes": raw(200, b"\xff\xfe" + ACCEPTED[2:]),
    "HTTP 200 JSON array": raw(200, b"[1, 2]"),
    "rt_cd 0 without ODNO": envelope(200, rt_cd="0", msg_cd="APBK0013", output={"ORD_TMD": "1"}),
    "rt_cd 0 with ODNO 0": envelope(200, rt_cd="0", msg_cd="APBK0013", output={"ODNO": "0"}),
    "rt_cd 0 with ODNO 0000000000": envelope(200, rt_cd="0", output={"ODNO": "0000000000"}),
    "rt_cd 0 with ODNO not a number": envelope(200, rt_cd="0", output={"ODNO": "ABC-1"}),
    "rt_cd 1 without a message code": envelope(200, rt_cd="1", msg1="오류"),
}
TRANSPORT_FAILURES = {
    "read timeout": httpx.ReadTimeout("timed out"),
    "connection reset": httpx.RemoteProtocolError("Server disconnected without sending a reply"),
    "write timeout": httpx.WriteTimeout("timed out"),
}
REFUSALS = {
    "business refusal, HTTP 200": envelope(
        200, rt_cd="1", msg_cd="40580000", msg1="모의투자 장종료 입니다."
    ),
    "rt_cd 7, HTTP 200": envelope(200, rt_cd="7", msg_cd="APBK0344", msg1="없습니다."),
    "business refusal, HTTP 400": envelope(400, rt_cd="1", msg_cd="APBK0919", msg1="불가"),
    "gateway refusal before routing, HTTP 500": envelope(
        500, rt_cd="1", msg_cd="EGW00206", msg1="API 사용 권한 없음"
    ),
}


def submit(answer: httpx.Response | Exception) -> OrderAck:
    harness = make_harness(name="live", dialect="live", trading_armed=True)
    harness.kis.on("order-cash", answer)
    return KisOrderClient(harness.http).submit(SELL)


@pytest.mark.parametrize("shape", sorted(UNKNOWN_SHAPES))
def test_a_reply_that_is_no_kis_answer_leaves_the_outcome_unknown(shape: str) -> None:
    with pytest.raises(OrderOutcomeUnknown):
        submit(UNKNOWN_SHAPES[shape])


@pytest.mark.parametrize("failure", sorted(TRANSPORT_FAILURES))
def test_a_failure_after_sending_leaves_the_outcome_unknown(failure: str) -> None:
    with pytest.raises(OrderOutcomeUnknown):
        submit(TRANSPORT_FAILURES[failure])


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_only_a_kis_envelope_that_says_no_is_a_refusal(refusal: str) -> None:
    with pytest.raises(BrokerError) as caught:
        submit(REFUSALS[refusal])
    assert not isinstance(caught.value, OrderOutcomeUnknown)
    assert isinstance(caught.value, BrokerRejected) or caught.value.code.startswith("EGW")


def test_a_connection_never_made_is_not_unknown_nothing_was_sent() -> None:
    with pytest.raises(BrokerError) as caught:
        submit(httpx.ConnectError("connection refused"))
    assert not isinstance(caught.value, OrderOutcomeUnknown)


def test_a_proper_acknowledgement_carries_its_order_number() -> None:
    assert submit(httpx.Response(200, json=fixture("order_cash"))).broker_order_no == "0000117057"
