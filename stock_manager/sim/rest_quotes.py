"""Quote TRs: current price, multi-price, order book, volume rank (§4.1-4.3, 4.6)."""

from __future__ import annotations

from typing import Any

from stock_manager.domain.krx import tick_size
from stock_manager.sim.clock import hhmmss
from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.fields import change_rate, diff_sign, pct, sign
from stock_manager.sim.market import SymbolMarket
from stock_manager.sim.messages import InputError, Msg
from stock_manager.sim.request import KisRequest, digits
from stock_manager.sim.session import Phase

MARKET_CODES = ("J", "NX", "UN")


def _symbol(req: KisRequest, exchange: Exchange, suffix: str = "") -> SymbolMarket | None:
    req.choice("FID_COND_MRKT_DIV_CODE" + suffix, MARKET_CODES)
    code = req.require("FID_INPUT_ISCD" + suffix).strip().upper()
    if not code:
        raise InputError("FID_INPUT_ISCD" + suffix)
    return exchange.markets.get(code.removeprefix("A"))


def market_label(m: SymbolMarket) -> str:
    """``rprs_mrkt_kor_name``: ETF/ETN for those (⚠ inferred, see adapters/kis/mapping.py),
    else the listing market."""
    return m.spec.market if m.spec.instrument == "stock" else m.spec.instrument


def price_output(m: SymbolMarket) -> dict[str, Any]:
    limit_width = m.limits.upper - m.prev_close
    return {
        "iscd_stat_cls_code": "55",
        "marg_rate": "20.00",
        "rprs_mrkt_kor_name": market_label(m),
        "bstp_kor_isnm": "시뮬레이션",
        "temp_stop_yn": "Y" if m.halted else "N",
        "oprc_rang_cont_yn": "N",
        "clpr_rang_cont_yn": "N",
        "crdt_able_yn": "Y",
        "grmn_rate_cls_code": "40",
        "elw_pblc_yn": "N",
        "stck_prpr": m.last,
        "prdy_vrss": m.change,
        "prdy_vrss_sign": sign(m),
        "prdy_ctrt": change_rate(m.last, m.prev_close),
        "acml_tr_pbmn": m.amount,
        "acml_vol": m.volume,
        "prdy_vrss_vol_rate": pct(m.volume, m.prev_volume),
        "stck_oprc": m.open,
        "stck_hgpr": m.high,
        "stck_lwpr": m.low,
        "stck_mxpr": m.limits.upper,
        "stck_llam": m.limits.lower,
        "stck_sdpr": m.prev_close,
        "wghn_avrg_stck_prc": f"{m.vwap:.2f}",
        "hts_frgn_ehrt": "0.00",
        "frgn_ntby_qty": 0,
        "pgtr_ntby_qty": 0,
        "dmrs_val": m.high,
        "dmsp_val": m.low,
        "cpfn": 0,
        "rstc_wdth_prc": limit_width,
        "stck_fcam": 100,
        "stck_sspr": int(m.prev_close * 0.7),
        "aspr_unit": tick_size(m.last, m.limits.kind),
        "hts_deal_qty_unit_val": 1,
        "lstn_stcn": m.spec.listed_shares,
        "hts_avls": m.last * m.spec.listed_shares // 100_000_000,
        "per": "10.00",
        "pbr": "1.00",
        "stac_month": "12",
        "vol_tnrt": pct(m.volume, m.spec.listed_shares),
        "eps": "0.00",
        "bps": "0.00",
        "d250_hgpr": m.limits.upper,
        "d250_lwpr": m.limits.lower,
        "w52_hgpr": m.limits.upper,
        "w52_lwpr": m.limits.lower,
        "whol_loan_rmnd_rate": "0.00",
        "ssts_yn": "Y",
        "stck_shrn_iscd": m.code,
        "fcam_cnnm": "100",
        "cpfn_cnnm": "0",
        "frgn_hldn_qty": 0,
        "vi_cls_code": m.vi.code if m.vi else "N",
        "ovtm_vi_cls_code": "N",
        "last_ssts_cntg_qty": 0,
        "invt_caful_yn": "N",
        "mrkt_warn_cls_code": "00",
        "short_over_yn": "N",
        "sltr_yn": "N",
        "mang_issu_cls_code": "N",
    }


def unknown_output(code: str) -> dict[str, Any]:
    """KIS answers an unknown code with ``rt_cd`` 0 and zero prices (§4.1)."""
    return {
        "stck_prpr": 0,
        "prdy_vrss": 0,
        "prdy_vrss_sign": "3",
        "prdy_ctrt": "0.00",
        "acml_vol": 0,
        "acml_tr_pbmn": 0,
        "stck_oprc": 0,
        "stck_hgpr": 0,
        "stck_lwpr": 0,
        "stck_mxpr": 0,
        "stck_llam": 0,
        "stck_sdpr": 0,
        "aspr_unit": 1,
        "stck_shrn_iscd": code,
        "temp_stop_yn": "N",
    }


def inquire_price(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    market = _symbol(req, ex)
    output = price_output(market) if market else unknown_output(req.get("FID_INPUT_ISCD"))
    return ok(ex.config.env, Msg.QUOTE_OK, output=output)


def _multi_row(m: SymbolMarket) -> dict[str, Any]:
    book = m.book()
    return {
        "kospi_kosdaq_cls_name": "KOSPI",
        "mrkt_trtm_cls_name": "",
        "hour_cls_code": "0",
        "inter_shrn_iscd": m.code,
        "inter_kor_isnm": m.spec.name,
        "inter2_prpr": m.last,
        "inter2_prdy_vrss": m.change,
        "prdy_vrss_sign": sign(m),
        "prdy_ctrt": change_rate(m.last, m.prev_close),
        "acml_vol": m.volume,
        "inter2_oprc": m.open,
        "inter2_hgpr": m.high,
        "inter2_lwpr": m.low,
        "inter2_llam": m.limits.lower,
        "inter2_mxpr": m.limits.upper,
        "inter2_askp": book.asks[0],
        "inter2_bidp": book.bids[0],
        "seln_rsqn": book.ask_qty[0],
        "shnu_rsqn": book.bid_qty[0],
        "total_askp_rsqn": book.total_ask,
        "total_bidp_rsqn": book.total_bid,
        "acml_tr_pbmn": m.amount,
        "inter2_prdy_clpr": m.prev_close,
        "oprc_vrss_hgpr_rate": change_rate(m.high, m.open),
        "intr_antc_cntg_vrss": 0,
        "intr_antc_cntg_vrss_sign": "3",
        "intr_antc_cntg_prdy_ctrt": "0.00",
        "intr_antc_vol": 0,
        "inter2_sdpr": m.prev_close,
    }


def multprice(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """Up to 30 symbols in ``FID_INPUT_ISCD_1..30``; blank or absent slots are skipped."""
    req.require("FID_INPUT_ISCD_1")
    rows = []
    for n in range(1, 31):
        if req.get(f"FID_INPUT_ISCD_{n}").strip():
            market = _symbol(req, ex, f"_{n}")
            if market is not None:
                rows.append(_multi_row(market))
    return ok(ex.config.env, Msg.QUOTE_OK, output=rows)


def _book_outputs(m: SymbolMarket, in_auction: bool, at: Any) -> dict[str, Any]:
    book = m.book()
    out1: dict[str, Any] = {"aspr_acpt_hour": hhmmss(at)}
    for level in range(10):
        n = level + 1
        out1[f"askp{n}"], out1[f"bidp{n}"] = book.asks[level], book.bids[level]
        out1[f"askp_rsqn{n}"], out1[f"bidp_rsqn{n}"] = book.ask_qty[level], book.bid_qty[level]
        out1[f"askp_rsqn_icdc{n}"] = out1[f"bidp_rsqn_icdc{n}"] = 0
    out1.update(
        total_askp_rsqn=book.total_ask,
        total_bidp_rsqn=book.total_bid,
        total_askp_rsqn_icdc=0,
        total_bidp_rsqn_icdc=0,
        ovtm_total_askp_icdc=0,
        ovtm_total_bidp_icdc=0,
        ovtm_total_askp_rsqn=0,
        ovtm_total_bidp_rsqn=0,
        ntby_aspr_rsqn=book.total_bid - book.total_ask,
        new_mkop_cls_code="21" if in_auction else "20",
    )
    expected = m.last if in_auction else 0
    out2 = {
        "antc_mkop_cls_code": "311" if in_auction else "112",
        "stck_prpr": m.last,
        "stck_oprc": m.open,
        "stck_hgpr": m.high,
        "stck_lwpr": m.low,
        "stck_sdpr": m.prev_close,
        "antc_cnpr": expected,
        "antc_cntg_vrss_sign": diff_sign(expected - m.prev_close) if expected else "3",
        "antc_cntg_vrss": expected - m.prev_close if expected else 0,
        "antc_cntg_prdy_ctrt": change_rate(expected, m.prev_close) if expected else "0.00",
        "antc_vol": m.last_qty if in_auction else 0,
        "stck_shrn_iscd": m.code,
        "vi_cls_code": m.vi.code if m.vi else "N",
    }
    return {"output1": out1, "output2": out2}


def asking_price(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    market = _symbol(req, ex)
    if market is None:
        return ok(ex.config.env, Msg.QUOTE_OK, output1={}, output2={})
    in_auction = ex.phase(req.now) is Phase.AUCTION
    return ok(ex.config.env, Msg.QUOTE_OK, **_book_outputs(market, in_auction, req.now))


RANK_KEYS = {
    "0": lambda m: m.volume,
    "1": lambda m: m.volume / m.prev_volume,
    "2": lambda m: m.volume / m.spec.listed_shares,
    "3": lambda m: m.amount,
    "4": lambda m: m.amount / (m.spec.listed_shares * m.prev_close),
}


def _rank_row(rank: int, m: SymbolMarket) -> dict[str, Any]:
    return {
        "hts_kor_isnm": m.spec.name,
        "mksc_shrn_iscd": m.code,
        "data_rank": rank,
        "stck_prpr": m.last,
        "prdy_vrss_sign": sign(m),
        "prdy_vrss": m.change,
        "prdy_ctrt": change_rate(m.last, m.prev_close),
        "acml_vol": m.volume,
        "prdy_vol": m.prev_volume,
        "lstn_stcn": m.spec.listed_shares,
        "avrg_vol": m.prev_volume,
        "n_befr_clpr_vrss_prpr_rate": change_rate(m.last, m.prev_close),
        "vol_inrt": pct(m.volume, m.prev_volume),
        "vol_tnrt": pct(m.volume, m.spec.listed_shares),
        "nday_vol_tnrt": pct(m.prev_volume, m.spec.listed_shares),
        "avrg_tr_pbmn": m.prev_volume * m.prev_close,
        "tr_pbmn_tnrt": pct(m.amount, m.spec.listed_shares * m.prev_close),
        "nday_tr_pbmn_tnrt": pct(m.prev_volume, m.spec.listed_shares),
        "acml_tr_pbmn": m.amount,
    }


def _price_bound(req: KisRequest, name: str) -> int | None:
    text = req.get(name).strip()
    if not text:
        return None
    if not digits(text):
        raise InputError(name)
    return int(text) or None


def _excluded_instruments(flags: str) -> set[str]:
    """FID_TRGT_EXLS_CLS_CODE: ten 0/1 flags; the 7th excludes ETFs, the 8th ETNs (§4.6)."""
    flags = flags.strip().ljust(10, "0")
    return {kind for kind, flag in (("ETF", flags[6]), ("ETN", flags[7])) if flag == "1"}


def volume_rank(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.choice("FID_COND_MRKT_DIV_CODE", MARKET_CODES)
    key = RANK_KEYS[req.choice("FID_BLNG_CLS_CODE", tuple(RANK_KEYS), default="0")]
    low, high = _price_bound(req, "FID_INPUT_PRICE_1"), _price_bound(req, "FID_INPUT_PRICE_2")
    min_volume = _price_bound(req, "FID_VOL_CNT") or 0
    excluded = _excluded_instruments(req.get("FID_TRGT_EXLS_CLS_CODE"))
    markets = [
        m
        for m in ex.markets.values()
        if (low is None or m.last >= low)
        and (high is None or m.last <= high)
        and m.volume >= min_volume
        and m.spec.instrument not in excluded
    ]
    markets.sort(key=key, reverse=True)
    rows = [_rank_row(rank, m) for rank, m in enumerate(markets[:30], start=1)]
    return ok(ex.config.env, Msg.QUOTE_OK, output=rows)
