"""Malformed client requests over real HTTP and WebSocket: a KIS-shaped error every time,
never a 500 traceback page, and the simulator keeps serving (issue 11)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from stock_manager.sim import rest
from tests.integration.sim.kis import V1, Kis, recv_json, subscribe_message, ws_connect

PRICE = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The reply must be a KIS JSON envelope, whatever its status."""
    assert response.headers["content-type"].startswith("application/json")
    body = dict(response.json())
    assert body["rt_cd"] in ("1", "2") and body["msg_cd"]
    return body


def still_serving(kis: Kis) -> None:
    response = kis.get("/quotations/inquire-price", "FHKST01010100", PRICE)
    assert response.status_code == 200 and response.json()["rt_cd"] == "0"


def order_body(kis: Kis, **fields: str) -> dict[str, str]:
    symbol = kis.symbol()["symbol"]
    body = {"PDNO": symbol, "ORD_DVSN": "01", "ORD_QTY": "1", "ORD_UNPR": "0"}
    return {**kis.account(), **body, "EXCG_ID_DVSN_CD": "KRX", **fields}


@pytest.mark.parametrize(
    ("field", "value"),
    [("ORD_QTY", "²²"), ("ORD_QTY", "9" * 5000), ("ORD_UNPR", "١٢٣"), ("ORD_DVSN", "²²")],
)
def test_order_inputs_that_only_look_like_numbers_are_input_errors(
    kis: Kis, field: str, value: str
) -> None:
    response = kis.post("/trading/order-cash", "TTTC0012U", order_body(kis, **{field: value}))
    assert response.status_code == 200  # was HTTP 500 with aiohttp's text page
    assert envelope(response)["msg_cd"] == "OPSQ2001"
    still_serving(kis)


@pytest.mark.parametrize(
    "raw", [b"[" * 100_000, b'{"CANO": ' * 50_000, b"\xff\xfe\x00", b'{"a": 1e999999}']
)
def test_bodies_that_are_not_readable_json_get_opsq9999(kis: Kis, raw: bytes) -> None:
    response = kis.http.post(
        V1 + "/trading/order-cash", content=raw, headers=kis.headers("TTTC0012U")
    )
    body = envelope(response)
    assert body["msg_cd"] in ("OPSQ9999", "OPSQ2001", "OPSQ2002")
    still_serving(kis)


def test_a_holiday_query_at_the_end_of_the_calendar_is_an_input_error(kis: Kis) -> None:
    params = {"BASS_DT": "99991231", "CTX_AREA_NK": "", "CTX_AREA_FK": ""}
    response = kis.get("/quotations/chk-holiday", "CTCA0903R", params)  # OverflowError before
    assert envelope(response)["msg_cd"] == "OPSQ2001"
    still_serving(kis)


def test_a_token_request_nested_past_the_json_limit_gets_a_kis_error(kis: Kis) -> None:
    response = kis.http.post("/oauth2/tokenP", content=b"[" * 100_000)
    assert response.status_code == 400 and response.json()["error_code"] == "EGW00101"
    still_serving(kis)


def test_a_handler_bug_is_answered_like_a_kis_gateway_error(
    kis: Kis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("simulated bug")

    monkeypatch.setitem(rest.HANDLERS, "inquire_price", broken)
    response = kis.get("/quotations/inquire-price", "FHKST01010100", PRICE)
    assert response.status_code == 500 and envelope(response)["msg_cd"] == "EGW00002"
    monkeypatch.undo()
    still_serving(kis)


def test_the_websocket_answers_unreadable_json_and_keeps_the_session(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send("[" * 100_000)  # RecursionError ended the session before
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP9999"
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        reply = recv_json(socket)
        assert reply["body"]["rt_cd"] == "0", json.dumps(reply)
