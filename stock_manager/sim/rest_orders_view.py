"""inquire-daily-ccld: today's order, modify and cancel records with their fills (§4.10)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from stock_manager.domain.clock import KST
from stock_manager.sim.envelope import KisReply
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.messages import InputError
from stock_manager.sim.orders import OrderKind, OrderStatus, SimOrder
from stock_manager.sim.paging import page_reply, paginate
from stock_manager.sim.request import KisRequest, digits

ORDER_TYPE_NAMES = {
    "00": "지정가",
    "01": "시장가",
    "02": "조건부지정가",
    "03": "최유리지정가",
    "04": "최우선지정가",
    "11": "IOC지정가",
    "12": "FOK지정가",
    "13": "IOC시장가",
    "14": "FOK시장가",
    "15": "IOC최유리",
    "16": "FOK최유리",
}
CONDITION_NAMES = {"0": "없음", "1": "IOC", "2": "FOK"}
CCLD_INPUTS = ("INQR_STRT_DT", "INQR_END_DT", "SLL_BUY_DVSN_CD", "INQR_DVSN", "CCLD_DVSN")


def side_code(order: SimOrder) -> str:
    """sll_buy_dvsn_cd: 01 sell, 02 buy."""
    return "02" if order.is_buy else "01"


def _type_name(order: SimOrder) -> str:
    name = ORDER_TYPE_NAMES.get(order.ord_dvsn, "")
    suffix = {OrderKind.MODIFY: "정정", OrderKind.CANCEL: "취소"}.get(order.kind, "")
    return name + suffix


def ccld_row(order: SimOrder, branch: str) -> dict[str, Any]:
    cancel = order.kind is OrderKind.CANCEL
    rejected = order.status is OrderStatus.REJECTED
    return {
        "ord_dt": order.created_at.strftime("%Y%m%d"),
        "ord_gno_brno": branch,
        "odno": f"{order.odno:010d}",
        "orgn_odno": f"{order.orgn_odno:010d}" if order.orgn_odno is not None else "",
        "ord_dvsn_name": _type_name(order),
        "sll_buy_dvsn_cd": side_code(order),
        "sll_buy_dvsn_cd_name": "현금매수" if order.is_buy else "현금매도",
        "pdno": order.symbol,
        "prdt_name": order.name,
        "ord_qty": order.qty,
        "ord_unpr": order.price,
        "ord_tmd": order.created_at.strftime("%H%M%S"),
        "tot_ccld_qty": order.filled_qty,
        "avg_prvs": round(order.average_price),
        "cncl_yn": "Y" if cancel else "N",
        "tot_ccld_amt": order.filled_amount,
        "loan_dt": "",
        "ordr_empno": "",
        "ord_dvsn_cd": order.ord_dvsn,
        "cnc_cfrm_qty": order.qty if cancel else order.cancelled_qty,
        "rmn_qty": 0 if rejected else order.remaining,
        "rjct_qty": order.qty if rejected else 0,
        "ccld_cndt_name": CONDITION_NAMES[order.condition],
        "inqr_ipad_addr": "",
        "cpbc_ordp_ord_rcit_dvsn_cd": "",
        "cpbc_ordp_infm_mthd_dvsn_cd": "",
        "infm_tmd": "",
        "ctac_tlno": "",
        "prdt_type_cd": "300",
        "excg_dvsn_cd": "02",
        "cpbc_ordp_mtrl_dvsn_cd": "",
        "ord_orgno": "",
        "rsvn_ord_end_dt": "",
        "excg_id_dvsn_cd": "KRX",
        "stpm_cndt_pric": 0,
        "stpm_efct_occr_dtmd": "",
    }


def _day(req: KisRequest, name: str) -> date:
    try:
        return datetime.strptime(req.get(name).strip(), "%Y%m%d").replace(tzinfo=KST).date()
    except ValueError as exc:
        raise InputError(name) from exc


def _odno_filter(req: KisRequest) -> int | None:
    text = req.get("ODNO").strip()
    if not text:
        return None
    if not digits(text):
        raise InputError("ODNO")
    return int(text)


def _wanted(ex: Exchange, req: KisRequest, variant: str) -> list[SimOrder]:
    start, end = _day(req, "INQR_STRT_DT"), _day(req, "INQR_END_DT")
    side = req.choice("SLL_BUY_DVSN_CD", ("00", "01", "02"))
    filled = req.choice("CCLD_DVSN", ("00", "01", "02"))
    symbol, odno = req.get("PDNO").strip(), _odno_filter(req)
    if variant == "old" or not start <= ex.trading_day <= end:
        return []
    return [
        order
        for order in ex.matching.orders.values()
        if (side == "00" or side_code(order) == side)
        and (not symbol or order.symbol == symbol)
        and (odno is None or order.odno == odno)
        and (
            filled == "00"
            or (filled == "01" and order.filled_qty > 0)
            or (filled == "02" and order.remaining > 0 and order.status is OrderStatus.OPEN)
        )
    ]


def _totals(orders: list[SimOrder]) -> dict[str, Any]:
    working = [o for o in orders if o.kind is not OrderKind.CANCEL]
    filled_qty = sum(o.filled_qty for o in working)
    buys = [o for o in working if o.is_buy and o.filled_qty]
    bought_qty = sum(o.filled_qty for o in buys)
    bought = sum(o.filled_amount for o in buys)
    return {
        "tot_ord_qty": sum(o.qty for o in working),
        "tot_ccld_qty": filled_qty,
        "tot_ccld_amt": sum(o.filled_amount for o in working),
        "prsm_tlex_smtl": sum(f.commission + f.tax for o in working for f in o.fills),
        "pchs_avg_pric": f"{bought / bought_qty if bought_qty else 0:.4f}",
    }


def daily_ccld(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    req.require_all(CCLD_INPUTS)
    descending = req.choice("INQR_DVSN", ("00", "01")) == "00"
    orders = sorted(_wanted(ex, req, variant), key=lambda o: o.odno, reverse=descending)
    rows = [ccld_row(order, ex.config.dialect.branch) for order in orders]
    page = paginate(
        rows,
        lambda row: str(row["odno"]),
        req,
        ex.config.dialect.ccld_page,
        f"{ex.config.cano}^{ex.config.product_code}^CCLD",
        first_cont=ex.config.first_page_cont,
    )
    return page_reply(
        ex.config.env,
        page,
        output2=_totals(orders),
    )
