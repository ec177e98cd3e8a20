"""Product TRs: 상품기본조회 (search-info), 주식기본조회 (search-stock-info), overseas stubs.

Both stock-info TRs take ``PRDT_TYPE_CD`` (300 = domestic stock/ETF/ETN/ELW) and ``PDNO``.
Market (KOSPI/KOSDAQ) and instrument type (stock/ETF/ETN) come from the universe
(:class:`~stock_manager.sim.universe.SymbolSpec`), so later work that lists ETFs or halts a
symbol changes the answers here without touching this module. A code the simulator does not
list, or another product type, answers ``rt_cd`` "7" (조회할 자료가 없습니다), which clients
read as "not found" (python-kis ``info``, korea-investment-stock ``API_RETURN_CODE``).

Both TRs exist on the live server only (KIS portal, "모의투자 미지원"); clients such as
python-kis call them on the live domain even in paper mode.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any

from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.market import SymbolMarket
from stock_manager.sim.messages import InputError, Msg, Rejection
from stock_manager.sim.request import KisRequest
from stock_manager.sim.universe import SymbolSpec

DOMESTIC_STOCK = "300"  # PRDT_TYPE_CD: 주식, ETF, ETN, ELW
# mket_id_cd / excg_dvsn_cd per market ⚠ (the portal lists STK/KSQ; the division codes are ours).
MARKET_IDS = {"KOSPI": ("STK", "02"), "KOSDAQ": ("KSQ", "03")}
# scty_grp_id_cd and the product class per instrument (ST 주권, EF ETF, EN ETN).
GROUPS = {"stock": ("ST", "주권"), "ETF": ("EF", "ETF"), "ETN": ("EN", "ETN")}


def isin(code: str) -> str:
    """The KRX standard code (ISIN) of a 6-character short code, e.g. ``KR7005930003``."""
    body = f"KR7{code}00"
    digits = "".join(str(int(char, 36)) for char in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{body}{(10 - total % 10) % 10}"


def listing_date(code: str) -> date:
    """A stable, made-up listing date (the universe carries none)."""
    return date(1976, 1, 5) + timedelta(days=zlib.crc32(code.encode()) % 16_000)


def _product(ex: Exchange, req: KisRequest) -> SymbolMarket:
    kind = req.require("PRDT_TYPE_CD").strip()
    code = req.require("PDNO").strip().upper()
    if not code:
        raise InputError("PDNO")
    market = ex.markets.get(code.removeprefix("A"))
    if kind != DOMESTIC_STOCK or market is None:
        raise Rejection(Msg.NO_DATA, f"{kind} {code}")
    return market


def _names(spec: SymbolSpec) -> dict[str, Any]:
    return {
        "prdt_name": spec.name,
        "prdt_name120": spec.name,
        "prdt_abrv_name": spec.name,
        "prdt_eng_name": spec.code,
        "prdt_eng_name120": spec.code,
        "prdt_eng_abrv_name": spec.code,
        "std_pdno": isin(spec.code),
    }


def search_info(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """CTPF1604R 상품기본조회: names, standard code, product class."""
    spec = _product(ex, req).spec
    listed = listing_date(spec.code).strftime("%Y%m%d")
    output = {
        "pdno": spec.code,
        "prdt_type_cd": DOMESTIC_STOCK,
        **_names(spec),
        "shtn_pdno": spec.code,
        "prdt_sale_stat_cd": "",
        "prdt_risk_grad_cd": "",
        "prdt_clsf_cd": "",
        "prdt_clsf_name": GROUPS[spec.instrument][1],
        "sale_strt_dt": listed,
        "sale_end_dt": "",
        "wrap_asst_type_cd": "",
        "ivst_prdt_type_cd": "",
        "ivst_prdt_type_cd_name": "",
        "frst_erlm_dt": listed,
    }
    return ok(ex.config.env, Msg.QUERY_OK, output=output)


def _listing(spec: SymbolSpec) -> dict[str, Any]:
    listed = listing_date(spec.code).strftime("%Y%m%d")
    kosdaq = spec.market == "KOSDAQ"
    return {
        "scts_mket_lstg_dt": "" if kosdaq else listed,
        "scts_mket_lstg_abol_dt": "",
        "kosdaq_mket_lstg_dt": listed if kosdaq else "",
        "kosdaq_mket_lstg_abol_dt": "",
        "frbd_mket_lstg_dt": "",
        "frbd_mket_lstg_abol_dt": "",
        "lstg_abol_dt": "",
    }


def _classes(spec: SymbolSpec) -> dict[str, Any]:
    market_id, exchange = MARKET_IDS[spec.market]
    group = GROUPS[spec.instrument][0]
    return {
        "mket_id_cd": market_id,
        "scty_grp_id_cd": group,
        "excg_dvsn_cd": exchange,
        "stck_kind_cd": "101" if spec.instrument == "stock" else "",
        "etf_dvsn_cd": "1" if spec.instrument == "ETF" else "",
        "etf_type_cd": "",
        "etf_txtn_type_cd": "",
        "etf_cu_qty": 0,
        "kospi200_item_yn": "N",
        "reits_kind_cd": "",
        "oilf_fund_yn": "N",
        "idx_bztp_lcls_cd": "",
        "idx_bztp_mcls_cd": "",
        "idx_bztp_scls_cd": "",
        "idx_bztp_lcls_cd_name": "",
        "idx_bztp_mcls_cd_name": "",
        "idx_bztp_scls_cd_name": "",
        "std_idst_clsf_cd": "",
        "std_idst_clsf_cd_name": "",
    }


def _trading_state(m: SymbolMarket) -> dict[str, Any]:
    # Halts, administrative issues and warnings come with the market states (a later issue).
    return {
        "tr_stop_yn": "N",
        "admn_item_yn": "N",
        "nxt_tr_stop_yn": "N",
        "etf_etn_ivst_heed_item_yn": "N",
        "thdt_clpr": m.last,
        "bfdy_clpr": m.prev_close,
        "clpr_chng_dt": "",
        "sbst_pric": int(m.prev_close * 0.7),
        "thco_sbst_pric": int(m.prev_close * 0.7),
        "thco_sbst_pric_chng_dt": "",
    }


def search_stock_info(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """CTPF1002R 주식기본조회: market, instrument type, listing and trading state."""
    market = _product(ex, req)
    spec = market.spec
    output = {
        "pdno": spec.code,
        "prdt_type_cd": DOMESTIC_STOCK,
        **_classes(spec),
        "setl_mmdd": "12",
        "lstg_stqt": spec.listed_shares,
        "lstg_cptl_amt": spec.listed_shares * 100,
        "cpta": spec.listed_shares * 100,
        "papr": 100,
        "issu_pric": 100,
        **_listing(spec),
        "mfnd_opng_dt": "",
        "mfnd_end_dt": "",
        "dpsi_erlm_cncl_dt": "",
        **_names(spec),
        "dpsi_aptm_erlm_yn": "Y",
        "nwst_odst_dvsn_cd": "",
        **_trading_state(market),
        "ocr_no": "",
        "crfd_item_yn": "N",
        "elec_scty_yn": "Y",
        "issu_istt_cd": "",
        "etf_chas_erng_rt_dbnb": f"{spec.multiple:.2f}" if spec.instrument == "ETF" else "0",
        "stln_int_rt_dvsn_cd": "",
        "frnr_psnl_lmt_rt": "0.00",
        "lstg_rqsr_issu_istt_cd": "",
        "lstg_rqsr_item_cd": "",
        "trst_istt_issu_istt_cd": "",
        "cptt_trad_tr_psbl_yn": "Y",
    }
    return ok(ex.config.env, Msg.QUERY_OK, output=output)


def overseas_empty(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """TTTS3018R 미체결내역 / TTTS3035R 주문체결내역: nothing abroad, a single last page."""
    req.check_account(ex.config)
    blank = "".ljust(200)
    return ok(
        ex.config.env,
        Msg.QUERY_OK,
        tr_cont="D",
        ctx_area_fk200=blank,
        ctx_area_nk200=blank,
        output=[],
    )
