"""What the popular KIS clients rely on: stock-info TRs, lenient chart inputs, doubled slashes,
36-character keys, rt_cd 7 for "no data", the first page's tr_cont letter (issue 15)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from stock_manager.config import SIM_APP_KEY
from stock_manager.domain.clock import KST
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, all_strings

INFO = "/quotations/search-info"
STOCK_INFO = "/quotations/search-stock-info"


def _product(code: str) -> dict[str, str]:
    return {"PDNO": code, "PRDT_TYPE_CD": "300"}


def _chart(symbol: str, **extra: str) -> dict[str, str]:
    return {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": symbol, **extra}


def test_default_app_key_has_the_36_characters_of_a_kis_key() -> None:
    assert len(SIM_APP_KEY) == 36


def test_search_info_names_the_product(kis: Kis) -> None:
    body = kis.get(INFO, "CTPF1604R", _product("005930")).json()
    out = body["output"]
    assert body["rt_cd"] == "0" and all_strings(body)
    assert (out["shtn_pdno"], out["prdt_type_cd"], out["prdt_abrv_name"]) == (
        "005930",
        "300",
        "삼성전자",
    )
    assert out["std_pdno"] == "KR7005930003"  # Samsung Electronics' real ISIN


def test_search_stock_info_market_and_type_come_from_the_universe(start_sim: StartSim) -> None:
    kis = start_sim(symbols=30)  # 247540 (에코프로비엠, KOSDAQ) is the 26th known code
    kospi = kis.get(STOCK_INFO, "CTPF1002R", _product("005930")).json()["output"]
    kosdaq = kis.get(STOCK_INFO, "CTPF1002R", _product("247540")).json()["output"]
    assert (kospi["mket_id_cd"], kospi["scty_grp_id_cd"]) == ("STK", "ST")
    assert kospi["scts_mket_lstg_dt"] and not kospi["kosdaq_mket_lstg_dt"]
    assert kosdaq["mket_id_cd"] == "KSQ" and kosdaq["kosdaq_mket_lstg_dt"]
    assert kospi["tr_stop_yn"] == "N" and int(kospi["lstg_stqt"]) > 0
    assert kospi["lstg_stqt"] != kosdaq["lstg_stqt"]  # the universe's, not a constant


@pytest.mark.parametrize(("path", "tr_id"), [(INFO, "CTPF1604R"), (STOCK_INFO, "CTPF1002R")])
def test_unknown_product_answers_rt_cd_7(kis: Kis, path: str, tr_id: str) -> None:
    for params in (_product("999999"), {"PDNO": "AAPL", "PRDT_TYPE_CD": "512"}):
        response = kis.get(path, tr_id, params)
        body = response.json()
        assert response.status_code == 200 and body["rt_cd"] == "7", body
        assert body["msg_cd"] == "KIOK0560"


def test_stock_info_is_live_only(paper: Kis) -> None:
    response = paper.get(INFO, "CTPF1604R", _product("005930"))
    assert (response.status_code, response.json()["msg_cd"]) == (500, "EGW02006")


def test_buying_power_of_an_unknown_symbol_is_no_data(kis: Kis) -> None:
    params = {
        **kis.account(),
        "PDNO": "999999",
        "ORD_UNPR": "",
        "ORD_DVSN": "01",
        "CMA_EVLU_AMT_ICLD_YN": "N",
        "OVRS_ICLD_YN": "N",
    }
    body = kis.get("/trading/inquire-psbl-order", "TTTC8908R", params).json()
    assert body["rt_cd"] == "7"


def test_time_daily_chart_gives_todays_minutes(kis: Kis) -> None:
    today = datetime.now(KST).strftime("%Y%m%d")
    params = _chart(
        "005930",
        FID_INPUT_HOUR_1="235959",
        FID_INPUT_DATE_1=today,
        FID_PW_DATA_INCU_YN="N",
        FID_FAKE_TICK_INCU_YN="",
    )
    body = kis.get("/quotations/inquire-time-dailychartprice", "FHKST03010230", params).json()
    rows = body["output2"]
    assert body["rt_cd"] == "0" and body["output1"]["stck_prpr"]
    assert 30 < len(rows) <= 120  # more than one page of the today-only TR
    hours = [row["stck_cntg_hour"] for row in rows]
    assert hours == sorted(hours, reverse=True) and {r["stck_bsop_date"] for r in rows} == {today}
    params["FID_INPUT_DATE_1"] = "20000103"
    past = kis.get("/quotations/inquire-time-dailychartprice", "FHKST03010230", params).json()
    assert past["rt_cd"] == "0" and past["output2"] == []


def test_daily_chart_accepts_year_zero_as_the_beginning(kis: Kis) -> None:
    today = datetime.now(KST).strftime("%Y%m%d")
    params = _chart(
        "005930",
        FID_INPUT_DATE_1="00000101",
        FID_INPUT_DATE_2=today,
        FID_PERIOD_DIV_CODE="D",
        FID_ORG_ADJ_PRC="0",
    )
    body = kis.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()
    assert body["rt_cd"] == "0" and len(body["output2"]) == 61  # 60 days of history + today
    params["FID_INPUT_DATE_1"] = "2026-01-01"
    assert (
        kis.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()[
            "msg_cd"
        ]
        == "OPSQ2001"
    )


@pytest.mark.parametrize("hour", ["000000", ""])
def test_minute_chart_hour_zero_or_empty_means_now(kis: Kis, hour: str) -> None:
    params = _chart("005930", FID_ETC_CLS_CODE="", FID_INPUT_HOUR_1=hour, FID_PW_DATA_INCU_YN="N")
    body = kis.get("/quotations/inquire-time-itemchartprice", "FHKST03010200", params).json()
    assert body["rt_cd"] == "0" and len(body["output2"]) == 30


def test_a_doubled_slash_is_served(kis: Kis) -> None:
    token = httpx.post(
        f"{kis.server.rest_url}//oauth2/tokenP",
        json={
            "grant_type": "client_credentials",
            "appkey": kis.config.app_key,
            "appsecret": kis.config.app_secret,
        },
    ).json()["access_token"]
    response = httpx.get(
        f"{kis.server.rest_url}//uapi/domestic-stock/v1/quotations/inquire-price",
        params=_chart("005930"),
        headers=kis.headers("FHKST01010100", token=token),
    )
    assert response.status_code == 200 and response.json()["rt_cd"] == "0"
    assert int(response.json()["output"]["stck_prpr"]) > 0


@pytest.mark.parametrize("path", ["inquire-nccs", "inquire-ccnl"])
def test_overseas_order_queries_answer_an_empty_last_page(start_sim: StartSim, path: str) -> None:
    for env, tr_id in (("live", "TTTS3018R"), ("paper", "VTTS3018R")):
        kis = start_sim(env=env)
        tr = tr_id if path == "inquire-nccs" else tr_id.replace("3018", "3035")
        response = kis.http.get(
            f"/uapi/overseas-stock/v1/trading/{path}",
            params={**kis.account(), "OVRS_EXCG_CD": "", "SORT_SQN": "DS"},
            headers=kis.headers(tr),
        )
        body = response.json()
        assert (body["rt_cd"], body["output"], response.headers["tr_cont"]) == ("0", [], "D")


def test_first_page_letter_is_a_setting(start_sim: StartSim) -> None:
    kis = start_sim(env="paper", symbols=45, first_page_cont="M")
    holdings = [
        {"symbol": s["symbol"], "qty": 1, "avg_price": s["prev_close"]}
        for s in kis.admin("symbols")["symbols"]
    ]
    kis.admin("account", {"holdings": holdings})
    conts, response = [], kis.balance()
    while True:
        conts.append(response.headers["tr_cont"])
        body = response.json()
        if conts[-1] not in ("F", "M"):
            break
        response = kis.balance("N", body["ctx_area_fk100"], body["ctx_area_nk100"])
    assert conts == ["M", "M", "E"]


def test_balance_by_symbol_is_refused_unless_accepted(start_sim: StartSim) -> None:
    def inquiry(kis: Kis) -> dict[str, str]:
        params = {
            **kis.account(),
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
        }
        return dict(kis.get("/trading/inquire-balance", "TTTC8434R", params).json())

    assert inquiry(start_sim())["msg_cd"] == "OPSQ2001"
    assert inquiry(start_sim(accept_inqr_dvsn_02=True))["rt_cd"] == "0"
