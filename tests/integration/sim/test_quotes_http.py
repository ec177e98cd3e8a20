"""Quote TRs over HTTP: prices on the tick grid inside the limits, books, candles, ranking."""

from __future__ import annotations

from datetime import datetime

from stock_manager.domain.clock import KST
from stock_manager.domain.krx import is_on_tick, price_limits, tick_size
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, all_strings


def _params(symbol: str) -> dict[str, str]:
    return {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": symbol}


def test_inquire_price_is_consistent_with_krx_rules(kis: Kis) -> None:
    out = kis.price("005930")
    price, base = int(out["stck_prpr"]), int(out["stck_sdpr"])
    limits = price_limits(base)
    assert (int(out["stck_mxpr"]), int(out["stck_llam"])) == (limits.upper, limits.lower)
    assert is_on_tick(price) and limits.lower <= price <= limits.upper
    assert int(out["aspr_unit"]) == tick_size(price)
    assert int(out["stck_lwpr"]) <= price <= int(out["stck_hgpr"])
    assert int(out["prdy_vrss"]) == price - base
    assert out["prdy_vrss_sign"] in {"1", "2", "3", "4", "5"}


def test_unknown_code_answers_zero_price(kis: Kis) -> None:
    response = kis.get("/quotations/inquire-price", "FHKST01010100", _params("999999"))
    assert response.json()["rt_cd"] == "0" and response.json()["output"]["stck_prpr"] == "0"


def test_multprice_returns_one_row_per_symbol(kis: Kis) -> None:
    params = {
        "FID_COND_MRKT_DIV_CODE_1": "J",
        "FID_INPUT_ISCD_1": "005930",
        "FID_COND_MRKT_DIV_CODE_2": "J",
        "FID_INPUT_ISCD_2": "000660",
    }
    body = kis.get("/quotations/intstock-multprice", "FHKST11300006", params).json()
    assert [row["inter_shrn_iscd"] for row in body["output"]] == ["005930", "000660"]
    assert all_strings(body)


def test_order_book_has_ten_levels_on_the_grid(kis: Kis) -> None:
    body = kis.get(
        "/quotations/inquire-asking-price-exp-ccn", "FHKST01010200", _params("000660")
    ).json()
    book = body["output1"]
    asks = [int(book[f"askp{n}"]) for n in range(1, 11)]
    bids = [int(book[f"bidp{n}"]) for n in range(1, 11)]
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert asks[0] > bids[0] and all(is_on_tick(p) for p in asks + bids if p)
    assert int(book["total_askp_rsqn"]) == sum(int(book[f"askp_rsqn{n}"]) for n in range(1, 11))
    assert body["output2"]["stck_shrn_iscd"] == "000660" and all_strings(body)


def test_daily_chart_has_history_newest_first(kis: Kis) -> None:
    params = {
        **_params("005930"),
        "FID_INPUT_DATE_1": "20000101",
        "FID_INPUT_DATE_2": "29991231",
        "FID_PERIOD_DIV_CODE": "D",
        "FID_ORG_ADJ_PRC": "0",
    }
    body = kis.get("/quotations/inquire-daily-itemchartprice", "FHKST03010100", params).json()
    rows = body["output2"]
    dates = [row["stck_bsop_date"] for row in rows]
    assert len(rows) == 61 and dates == sorted(dates, reverse=True)
    assert dates[0] == datetime.now(KST).strftime("%Y%m%d")
    assert rows[1]["stck_clpr"] == body["output1"]["stck_prdy_clpr"]
    weekly = kis.get(
        "/quotations/inquire-daily-itemchartprice",
        "FHKST03010100",
        {**params, "FID_PERIOD_DIV_CODE": "W"},
    ).json()["output2"]
    assert 10 <= len(weekly) <= 15


def test_minute_chart_has_backfilled_candles_newest_first(kis: Kis) -> None:
    params = {
        **_params("005930"),
        "FID_ETC_CLS_CODE": "",
        "FID_INPUT_HOUR_1": "235959",
        "FID_PW_DATA_INCU_YN": "Y",
    }
    rows = kis.get("/quotations/inquire-time-itemchartprice", "FHKST03010200", params).json()[
        "output2"
    ]
    assert len(rows) == 30
    hours = [row["stck_cntg_hour"] for row in rows]
    assert hours == sorted(hours, reverse=True)
    assert all(int(r["stck_lwpr"]) <= int(r["stck_prpr"]) <= int(r["stck_hgpr"]) for r in rows)
    early = kis.get(
        "/quotations/inquire-time-itemchartprice",
        "FHKST03010200",
        {**params, "FID_INPUT_HOUR_1": hours[10]},
    ).json()["output2"]
    assert early[0]["stck_cntg_hour"] == hours[10]


def test_daily_price_lists_thirty_days(kis: Kis) -> None:
    params = {**_params("005930"), "FID_PERIOD_DIV_CODE": "D", "FID_ORG_ADJ_PRC": "0"}
    rows = kis.get("/quotations/inquire-daily-price", "FHKST01010400", params).json()["output"]
    assert len(rows) == 30 and rows[0]["stck_bsop_date"] > rows[1]["stck_bsop_date"]


def test_volume_rank_sorts_by_volume_with_at_most_30_rows(start_sim: StartSim) -> None:
    kis = start_sim(symbols=40)
    params = {
        "FID_COND_MRKT_DIV_CODE": "J",
        "FID_COND_SCR_DIV_CODE": "20171",
        "FID_INPUT_ISCD": "0000",
        "FID_DIV_CLS_CODE": "0",
        "FID_BLNG_CLS_CODE": "0",
        "FID_TRGT_CLS_CODE": "111111111",
        "FID_TRGT_EXLS_CLS_CODE": "0000000000",
        "FID_INPUT_PRICE_1": "",
        "FID_INPUT_PRICE_2": "",
        "FID_VOL_CNT": "",
        "FID_INPUT_DATE_1": "",
    }
    response = kis.get("/quotations/volume-rank", "FHPST01710000", params)
    rows = response.json()["output"]
    volumes = [int(row["acml_vol"]) for row in rows]
    assert len(rows) == 30 and volumes == sorted(volumes, reverse=True)
    assert rows[0]["data_rank"] == "1" and response.headers["tr_cont"] in ("", "D")


def test_chk_holiday_marks_weekends_closed(kis: Kis) -> None:
    rows = kis.get(
        "/quotations/chk-holiday",
        "CTCA0903R",
        {"BASS_DT": "20300105", "CTX_AREA_NK": "", "CTX_AREA_FK": ""},
    ).json()["output"]
    by_day = {row["bass_dt"]: row for row in rows}
    assert by_day["20300106"]["opnd_yn"] == "N" and by_day["20300106"]["wday_dvsn_cd"] == "01"
    assert by_day["20300105"]["wday_dvsn_cd"] == "07"
    assert by_day["20300107"]["bzdy_yn"] == "Y"
