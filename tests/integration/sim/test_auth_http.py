"""OAuth over real HTTP: token issuance limits, reuse, expiry, revocation, approval, hashkey."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

from stock_manager.domain.clock import KST
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis


def test_token_response_has_the_documented_fields(kis: Kis) -> None:
    response = kis.issue_token()
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert len(body["access_token"]) <= 350 and body["access_token"].count(".") == 2
    expiry = datetime.strptime(
        body["access_token_token_expired"] + " +0900", "%Y-%m-%d %H:%M:%S %z"
    )
    remaining = expiry - datetime.now(KST)
    assert 86_000 < remaining.total_seconds() <= 86_400


def test_second_token_within_a_minute_is_403_egw00133(kis: Kis) -> None:
    assert kis.issue_token().status_code == 200
    second = kis.issue_token()
    assert second.status_code == 403
    assert second.json() == {
        "error_description": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)",
        "error_code": "EGW00133",
    }


def test_same_token_within_the_reuse_window_then_a_new_one(start_sim: StartSim) -> None:
    kis = start_sim(token_issue_interval=0.2, token_reuse_window=0.6)
    first = kis.issue_token().json()
    time.sleep(0.25)
    again = kis.issue_token().json()
    assert again["access_token"] == first["access_token"]
    assert again["access_token_token_expired"] == first["access_token_token_expired"]
    time.sleep(0.45)
    fresh = kis.issue_token().json()
    assert fresh["access_token"] != first["access_token"]


def test_expired_token_gets_egw00123_and_unknown_egw00121(start_sim: StartSim) -> None:
    kis = start_sim(token_lifetime=0.3, token_issue_interval=0.1)
    token = kis.token
    params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    path = "/uapi/domestic-stock/v1/quotations/inquire-price"
    ok = kis.http.get(path, params=params, headers=kis.headers("FHKST01010100", token=token))
    assert ok.json()["rt_cd"] == "0"
    unknown = kis.http.get(path, params=params, headers=kis.headers("FHKST01010100", token="x.y.z"))
    assert unknown.status_code == 500 and unknown.json()["msg_cd"] == "EGW00121"
    time.sleep(0.35)
    expired = kis.http.get(path, params=params, headers=kis.headers("FHKST01010100", token=token))
    assert expired.status_code == 500
    assert expired.json()["msg_cd"] == "EGW00123" and expired.json()["rt_cd"] == "1"


def test_revoked_token_stops_working(kis: Kis) -> None:
    token = kis.token
    body = {"appkey": kis.config.app_key, "appsecret": kis.config.app_secret, "token": token}
    revoked = kis.http.post("/oauth2/revokeP", json=body)
    assert revoked.json() == {"code": 200, "message": "접근토큰 폐기에 성공하였습니다"}
    response = kis.get(
        "/quotations/inquire-price",
        "FHKST01010100",
        {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"},
    )
    assert response.json()["msg_cd"] == "EGW00121"


def test_wrong_app_secret_is_refused(kis: Kis) -> None:
    body = {"grant_type": "client_credentials", "appkey": kis.config.app_key, "appsecret": "no"}
    response = kis.http.post("/oauth2/tokenP", json=body)
    assert response.status_code == 403 and response.json()["error_code"] == "EGW00105"


def test_approval_wants_secretkey_not_appsecret(kis: Kis) -> None:
    assert len(kis.approval_key()) >= 32
    wrong = {
        "grant_type": "client_credentials",
        "appkey": kis.config.app_key,
        "appsecret": kis.config.app_secret,
    }
    response = kis.http.post("/oauth2/Approval", json=wrong)
    assert response.status_code == 403 and "secretkey" in response.json()["error_description"]


def test_hashkey_is_the_digest_of_the_exact_body_and_is_checked(kis: Kis) -> None:
    order = {**kis.account(), "PDNO": "005930", "ORD_DVSN": "01", "ORD_QTY": "1", "ORD_UNPR": "0"}
    raw = json.dumps(order)
    headers = {
        "content-type": "application/json",
        "appkey": kis.config.app_key,
        "appsecret": kis.config.app_secret,
    }
    hashed = kis.http.post("/uapi/hashkey", content=raw, headers=headers).json()
    assert hashed["HASH"] == hashlib.sha256(raw.encode()).hexdigest()
    path = "/uapi/domestic-stock/v1/trading/order-cash"
    good = kis.http.post(
        path, content=raw, headers={**kis.headers("TTTC0012U"), "hashkey": hashed["HASH"]}
    )
    assert good.json()["rt_cd"] == "0"
    bad = kis.http.post(path, content=raw, headers={**kis.headers("TTTC0012U"), "hashkey": "0"})
    assert bad.status_code == 500 and bad.json()["msg_cd"] == "EGW00131"


def test_default_token_windows_are_one_minute_and_six_hours() -> None:
    from stock_manager.sim.config import SimConfig

    config = SimConfig()
    assert config.token_issue_interval == 60.0
    assert config.token_reuse_window == 6 * 3600
    assert config.token_lifetime == 86_400
