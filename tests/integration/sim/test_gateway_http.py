"""Gateway behaviour over HTTP: rate limits, dialect tr_ids, headers and the envelope."""

from __future__ import annotations

import pytest

from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, all_strings

PRICE = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}


def _burst(kis: Kis, count: int) -> list[tuple[int, str]]:
    token = kis.token
    path = "/uapi/domestic-stock/v1/quotations/inquire-price"
    headers = kis.headers("FHKST01010100", token=token)
    results = []
    for _ in range(count):
        response = kis.http.get(path, params=PRICE, headers=headers)
        results.append((response.status_code, response.json()["msg_cd"]))
    return results


def test_the_21st_request_inside_one_second_on_live_gets_egw00201(start_sim: StartSim) -> None:
    kis = start_sim(rate_limit=None)
    _ = kis.token
    results = _burst(kis, 21)
    assert results[:20] == [(200, "MCA00000")] * 20
    assert results[20] == (500, "EGW00201")


def test_paper_allows_two_requests_per_second(start_sim: StartSim) -> None:
    kis = start_sim(env="paper", rate_limit=None)
    _ = kis.token
    assert [code for _, code in _burst(kis, 3)] == ["MCA00000", "MCA00000", "EGW00201"]


def test_rate_limit_is_per_second_window_and_recovers(start_sim: StartSim) -> None:
    import time

    kis = start_sim(rate_limit=5)
    _ = kis.token
    assert _burst(kis, 6)[-1] == (500, "EGW00201")
    time.sleep(1.05)
    assert _burst(kis, 1) == [(200, "MCA00000")]


def test_intstock_multprice_on_paper_is_http_500_egw02006(paper: Kis) -> None:
    params = {"FID_COND_MRKT_DIV_CODE_1": "J", "FID_INPUT_ISCD_1": "005930"}
    response = paper.get("/quotations/intstock-multprice", "FHKST11300006", params)
    assert response.status_code == 500
    assert response.json() == {
        "rt_cd": "1",
        "msg_cd": "EGW02006",
        "msg1": "모의투자 TR 이 아닙니다.",
    }


@pytest.mark.parametrize(
    ("path", "tr_id"),
    [
        ("/quotations/volume-rank", "FHPST01710000"),
        ("/quotations/chk-holiday", "CTCA0903R"),
        ("/trading/inquire-psbl-rvsecncl", "VTTC0084R"),
    ],
)
def test_live_only_trs_are_egw02006_on_paper(paper: Kis, path: str, tr_id: str) -> None:
    response = paper.get(path, tr_id, {})
    assert response.status_code == 500 and response.json()["msg_cd"] == "EGW02006"


def test_live_tr_id_on_paper_is_egw02006(paper: Kis) -> None:
    response = paper.get("/trading/inquire-balance", "TTTC8434R", paper.account())
    assert response.status_code == 500 and response.json()["msg_cd"] == "EGW02006"


def test_unknown_tr_id_is_refused(kis: Kis) -> None:
    response = kis.get("/quotations/inquire-price", "FHKST99999999", PRICE)
    assert response.status_code == 500 and response.json()["rt_cd"] == "1"


def test_envelope_headers_and_string_values(kis: Kis) -> None:
    response = kis.get("/quotations/inquire-price", "FHKST01010100", PRICE)
    body = response.json()
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["tr_id"] == "FHKST01010100"
    assert "tr_cont" in response.headers and len(response.headers["gt_uid"]) == 32
    assert (body["rt_cd"], body["msg_cd"]) == ("0", "MCA00000")
    assert all_strings(body)


def test_parameter_and_header_names_are_case_insensitive(kis: Kis) -> None:
    headers = {
        "AppKey": kis.config.app_key,
        "AppSecret": kis.config.app_secret,
        "Authorization": f"Bearer {kis.token}",
        "TR_ID": "FHKST01010100",
    }
    params = {"fid_cond_mrkt_div_code": "J", "fid_input_iscd": "005930"}
    response = kis.http.get(
        "/uapi/domestic-stock/v1/quotations/inquire-price", params=params, headers=headers
    )
    assert response.json()["output"]["stck_shrn_iscd"] == "005930"


def test_missing_app_key_and_bad_custtype(kis: Kis) -> None:
    path = "/uapi/domestic-stock/v1/quotations/inquire-price"
    headers = kis.headers("FHKST01010100")
    no_key = {k: v for k, v in headers.items() if k != "appkey"}
    assert kis.http.get(path, params=PRICE, headers=no_key).json()["msg_cd"] == "EGW00102"
    bad = kis.http.get(path, params=PRICE, headers={**headers, "custtype": "X"})
    assert bad.json()["msg_cd"] == "EGW00208"


def test_strict_post_bodies_want_uppercase_keys_and_strings(kis: Kis) -> None:
    body = {**kis.account(), "pdno": "005930", "ORD_DVSN": "01", "ORD_QTY": "1", "ORD_UNPR": "0"}
    lower = kis.post("/trading/order-cash", "TTTC0012U", body)
    assert lower.json()["rt_cd"] == "2" and lower.json()["msg_cd"] == "OPSQ2001"
    numeric = {**kis.account(), "PDNO": "005930", "ORD_DVSN": "01", "ORD_QTY": 1, "ORD_UNPR": "0"}
    response = kis.http.post(
        "/uapi/domestic-stock/v1/trading/order-cash", json=numeric, headers=kis.headers("TTTC0012U")
    )
    assert response.json()["msg_cd"] == "OPSQ2001" and "ORD_QTY" in response.json()["msg1"]


def test_missing_required_field_names_it(kis: Kis) -> None:
    response = kis.post(
        "/trading/order-cash",
        "TTTC0012U",
        {**kis.account(), "PDNO": "005930", "ORD_DVSN": "01", "ORD_QTY": "1"},
    )
    assert response.json()["msg_cd"] == "OPSQ2002" and "ORD_UNPR" in response.json()["msg1"]


def test_wrong_account_is_refused(kis: Kis) -> None:
    body = {
        "CANO": "99999999",
        "ACNT_PRDT_CD": "01",
        "PDNO": "005930",
        "ORD_DVSN": "01",
        "ORD_QTY": "1",
        "ORD_UNPR": "0",
    }
    assert kis.post("/trading/order-cash", "TTTC0012U", body).json()["msg_cd"] == "OPSQ2000"


def test_limits_count_requests_per_tr_id_and_egw00201_answers(start_sim: StartSim) -> None:
    kis = start_sim(rate_limit=3)
    _ = kis.token
    before = kis.admin("limits")
    assert _burst(kis, 5)[-2:] == [(500, "EGW00201")] * 2
    after = kis.admin("limits")
    assert after["requests_served"] - before["requests_served"] == 5
    assert after["throttled"] - before["throttled"] == 2
    assert after["requests_by_tr_id"]["FHKST01010100"] == 5
