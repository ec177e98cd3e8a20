"""Account TRs: balance, buying power, cancellable orders, sellable qty (§4.9, 4.11-4.12)."""

from __future__ import annotations

from typing import Any

from stock_manager.sim.account import Holding
from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.fields import change_rate, pct
from stock_manager.sim.messages import InputError, Msg, Rejection
from stock_manager.sim.orders import OrderKind, SimOrder
from stock_manager.sim.paging import page_reply, paginate
from stock_manager.sim.request import KisRequest
from stock_manager.sim.rest_orders_view import ORDER_TYPE_NAMES, side_code

BALANCE_INPUTS = (
    "AFHR_FLPR_YN",
    "INQR_DVSN",
    "UNPR_DVSN",
    "FUND_STTL_ICLD_YN",
    "FNCG_AMT_AUTO_RDPT_YN",
    "PRCS_DVSN",
)


def _holding_row(ex: Exchange, held: Holding) -> dict[str, Any]:
    market = ex.markets.get(held.symbol)
    price = market.last if market else int(held.average_price)
    value = held.qty * price
    return {
        "pdno": held.symbol,
        "prdt_name": held.name,
        "trad_dvsn_name": "현금",
        "bfdy_buy_qty": 0,
        "bfdy_sll_qty": 0,
        "thdt_buyqty": held.bought_qty,
        "thdt_sll_qty": held.sold_qty,
        "hldg_qty": held.qty,
        "ord_psbl_qty": held.qty - ex.matching.open_sell_qty(held.symbol),
        "pchs_avg_pric": f"{held.average_price:.4f}",
        "pchs_amt": held.cost,
        "prpr": price,
        "evlu_amt": value,
        "evlu_pfls_amt": value - held.cost,
        "evlu_pfls_rt": pct(value - held.cost, held.cost),
        "evlu_erng_rt": pct(value - held.cost, held.cost),
        "loan_dt": "",
        "loan_amt": 0,
        "stln_slng_chgs": 0,
        "expd_dt": "",
        "fltt_rt": change_rate(price, market.prev_close) if market else "0.00",
        "bfdy_cprs_icdc": price - market.prev_close if market else 0,
        "item_mgna_rt_name": "",
        "grta_rt_name": "",
        "sbst_pric": 0,
        "stck_loan_unpr": "0",
    }


def pct_exact(part: int, whole: int) -> float:
    return part / whole * 100 if whole else 0.0


def _summary(ex: Exchange, rows: list[dict[str, Any]]) -> dict[str, Any]:
    account = ex.account
    cost = sum(int(row["pchs_amt"]) for row in rows)
    value = sum(int(row["evlu_amt"]) for row in rows)
    start_value = account.deposit + sum(
        held.start_qty * ex.markets[held.symbol].prev_close
        for held in account.holdings.values()
        if held.symbol in ex.markets
    )
    total = account.cash_d2 + value
    return {
        "dnca_tot_amt": account.deposit,
        "nxdy_excc_amt": account.deposit,
        "prvs_rcdl_excc_amt": account.cash_d2,
        "cma_evlu_amt": 0,
        "bfdy_buy_amt": 0,
        "thdt_buy_amt": account.bought,
        "nxdy_auto_rdpt_amt": 0,
        "bfdy_sll_amt": 0,
        "thdt_sll_amt": account.sold,
        "d2_auto_rdpt_amt": 0,
        "bfdy_tlex_amt": 0,
        "thdt_tlex_amt": account.commission + account.tax,
        "tot_loan_amt": 0,
        "scts_evlu_amt": value,
        "tot_evlu_amt": total,
        "nass_amt": total,
        "fncg_gld_auto_rdpt_yn": "N",
        "pchs_amt_smtl_amt": cost,
        "evlu_amt_smtl_amt": value,
        "evlu_pfls_smtl_amt": value - cost,
        "tot_stln_slng_chgs": 0,
        "bfdy_tot_asst_evlu_amt": start_value,
        "asst_icdc_amt": total - start_value,
        "asst_icdc_erng_rt": f"{pct_exact(total - start_value, start_value):.8f}",
    }


def balance(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    req.require_all(BALANCE_INPUTS)
    allowed = ("01", "02") if ex.config.accept_inqr_dvsn_02 else ("01",)
    if req.get("INQR_DVSN").strip() not in allowed:
        # KIS refused 02 from 2026-02-10 (python-kis issue #81, since closed) ⚠: a setting.
        raise InputError("INQR_DVSN")
    req.choice("PRCS_DVSN", ("00", "01"))
    holdings = sorted(ex.account.holdings.values(), key=lambda held: held.symbol)
    rows = [_holding_row(ex, held) for held in holdings]
    page = paginate(
        rows,
        lambda row: str(row["pdno"]),
        req,
        ex.config.dialect.balance_page,
        f"{ex.config.cano}^{ex.config.product_code}^BAL",
        first_cont=ex.config.first_page_cont,
    )
    return page_reply(
        ex.config.env,
        page,
        output2=[_summary(ex, rows)],
    )


def max_qty(ex: Exchange, price: int, power: int, symbol: str = "") -> int:
    if price <= 0 or power <= 0:
        return 0
    qty = power // price
    while qty > 0 and ex.account.buy_cost(qty * price, symbol) > power:
        qty -= 1
    return qty


def psbl_order(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    req.require_all(("PDNO", "ORD_DVSN", "CMA_EVLU_AMT_ICLD_YN", "OVRS_ICLD_YN"))
    symbol = req.get("PDNO").strip()
    market = ex.markets.get(symbol)
    if symbol and market is None:
        raise Rejection(Msg.NO_DATA, symbol)  # python-kis reads rt_cd 7 as "not found"
    price = req.integer("ORD_UNPR", blank=0) if "ORD_UNPR" in req.params else 0
    if not price and market is not None:
        market_type = req.get("ORD_DVSN").strip() in ("01", "13", "14")
        price = market.limits.upper if market_type else market.last
    power = max(0, ex.matching.buying_power())
    qty = max_qty(ex, price, power, symbol)
    sold_net = max(0, ex.account.sold - ex.account.tax)
    output = {
        "ord_psbl_cash": power,
        "ord_psbl_sbst": 0,
        "ruse_psbl_amt": sold_net,
        "fund_rpch_chgs": 0,
        "psbl_qty_calc_unpr": price,
        "nrcvb_buy_amt": power,
        "nrcvb_buy_qty": qty,
        "max_buy_amt": power,
        "max_buy_qty": qty,
        "cma_evlu_amt": 0,
        "ovrs_re_use_amt_wcrc": 0,
        "ord_psbl_frcr_amt_wcrc": 0,
    }
    return ok(ex.config.env, Msg.QUERY_OK, output=output)


def _open_row(order: SimOrder, branch: str) -> dict[str, Any]:
    return {
        "ord_gno_brno": branch,
        "odno": f"{order.odno:010d}",
        "orgn_odno": f"{order.orgn_odno:010d}" if order.orgn_odno is not None else "",
        "ord_dvsn_name": ORDER_TYPE_NAMES.get(order.ord_dvsn, ""),
        "pdno": order.symbol,
        "prdt_name": order.name,
        "rvse_cncl_dvsn_name": "정정" if order.kind is OrderKind.MODIFY else "",
        "ord_qty": order.qty,
        "ord_unpr": order.price,
        "ord_tmd": order.created_at.strftime("%H%M%S"),
        "tot_ccld_qty": order.filled_qty,
        "tot_ccld_amt": order.filled_amount,
        "psbl_qty": order.remaining,
        "sll_buy_dvsn_cd": side_code(order),
        "ord_dvsn_cd": order.ord_dvsn,
        "mgco_aptm_odno": "",
        "excg_dvsn_cd": "02",
        "excg_id_dvsn_cd": "KRX",
        "excg_id_dvsn_name": "KRX",
        "stpm_cndt_pric": 0,
        "stpm_efct_occr_yn": "N",
    }


def psbl_rvsecncl(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    by_symbol = req.choice("INQR_DVSN_1", ("0", "1"))
    side = req.choice("INQR_DVSN_2", ("0", "1", "2"))
    orders = [o for o in ex.matching.open_list() if side == "0" or side_code(o) == f"0{side}"]
    orders.sort(key=(lambda o: (o.symbol, o.odno)) if by_symbol == "1" else (lambda o: o.odno))
    rows = [_open_row(order, ex.config.dialect.branch) for order in orders]
    page = paginate(
        rows,
        lambda row: str(row["odno"]),
        req,
        ex.config.dialect.rvsecncl_page,
        f"{ex.config.cano}^{ex.config.product_code}^RVS",
        first_cont=ex.config.first_page_cont,
    )
    return page_reply(ex.config.env, page, "output")


def psbl_sell(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    symbol = req.require("PDNO").strip()
    held = ex.account.holdings.get(symbol)
    if held is None:
        raise Rejection(Msg.NO_HOLDING, symbol)
    row = _holding_row(ex, held)
    output = {
        "pdno": symbol,
        "prdt_name": held.name,
        "buy_qty": held.bought_qty,
        "sll_qty": held.sold_qty,
        "cblc_qty": held.qty,
        "nsvg_qty": 0,
        "ord_psbl_qty": row["ord_psbl_qty"],
        "pchs_avg_pric": row["pchs_avg_pric"],
        "pchs_amt": held.cost,
        "now_pric": row["prpr"],
        "evlu_amt": row["evlu_amt"],
        "evlu_pfls_amt": row["evlu_pfls_amt"],
        "evlu_pfls_rt": row["evlu_pfls_rt"],
    }
    return ok(ex.config.env, Msg.QUERY_OK, output=output)
