"""Fault injection over HTTP and WebSocket, switched by flag and at run time."""

from __future__ import annotations

import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from stock_manager.sim.faults import FaultProfile
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, recv_json, subscribe_message, ws_connect

PRICE = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}


def test_http500_egw00001_from_the_start_flag(start_sim: StartSim) -> None:
    kis = start_sim(faults=FaultProfile(http500_rate=1.0))
    response = kis.get("/quotations/inquire-price", "FHKST01010100", PRICE)
    assert response.status_code == 500
    assert response.json() == {
        "rt_cd": "1",
        "msg_cd": "EGW00001",
        "msg1": "일시적인 오류가 발생했습니다.",
    }


def test_faults_switch_at_run_time_and_reset(kis: Kis) -> None:
    profile = kis.admin("faults", {"http500_rate": 1.0, "paths": ["inquire-price"]})["profile"]
    assert profile["http500_rate"] == 1.0
    assert kis.get("/quotations/inquire-price", "FHKST01010100", PRICE).status_code == 500
    assert kis.balance().status_code == 200  # other paths unaffected
    kis.admin("faults", {"reset": True})
    assert kis.get("/quotations/inquire-price", "FHKST01010100", PRICE).status_code == 200


def test_unknown_fault_key_is_a_400(kis: Kis) -> None:
    response = kis.http.post("/_sim/faults", json={"explode": 1})
    assert response.status_code == 400 and "explode" in response.json()["error"]


def test_rate_limit_bursts(kis: Kis) -> None:
    kis.admin("faults", {"rate_limit_burst_rate": 1.0, "rate_limit_burst_len": 3})
    codes = [
        kis.get("/quotations/inquire-price", "FHKST01010100", PRICE).json()["msg_cd"]
        for _ in range(3)
    ]
    assert codes == ["EGW00201"] * 3


def test_accepted_order_whose_reply_never_comes(kis: Kis) -> None:
    kis.admin("faults", {"order_timeout_rate": 1.0, "order_timeout_hang_s": 0.3})
    _ = kis.token
    with pytest.raises(httpx.HTTPError):
        kis.order("buy", "005930", "01", 1)
    orders = kis.state()["orders"]
    assert len(orders) == 1 and orders[0]["status"] == "filled"
    kis.admin("faults", {"order_timeout_rate": 0.0})
    assert kis.order("buy", "005930", "01", 1).json()["rt_cd"] == "0"


def test_token_revocation_and_expiry_actions(kis: Kis) -> None:
    assert kis.balance().json()["rt_cd"] == "0"
    assert kis.admin("faults", {"expire_tokens": True})["actions"] == {"expired_tokens": 1}
    assert kis.balance().json()["msg_cd"] == "EGW00123"
    kis.admin("faults", {"revoke_tokens": True})
    assert kis.balance().json()["msg_cd"] == "EGW00121"


def test_added_latency(kis: Kis) -> None:
    _ = kis.token
    kis.admin("faults", {"latency_ms": 150})
    started = time.perf_counter()
    kis.get("/quotations/inquire-price", "FHKST01010100", PRICE)
    assert time.perf_counter() - started >= 0.15


def test_exchange_reject_is_accepted_then_refused(kis: Kis) -> None:
    kis.admin("faults", {"exchange_reject_rate": 1.0})
    body = kis.order("buy", "005930", "01", 1).json()
    assert body["rt_cd"] == "0"
    assert kis.state()["orders"][0]["status"] == "rejected"


def test_websocket_drop_action_and_random_drops(start_sim: StartSim) -> None:
    kis = start_sim()
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        recv_json(socket)
        assert kis.admin("faults", {"drop_ws": True})["actions"] == {"dropped_sockets": 1}
        with pytest.raises(ConnectionClosed):
            for _ in range(1000):
                socket.recv(timeout=2)
    kis.admin("faults", {"ws_drop_rate": 1.0})
    with ws_connect(kis.server) as socket, pytest.raises(ConnectionClosed):
        for _ in range(100_000):
            socket.recv(timeout=3)
