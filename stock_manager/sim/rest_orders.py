"""order-cash and order-rvsecncl (§4.7-4.8): new orders, modifications and cancellations.

A successful reply's ``output`` carries ``KRX_FWDG_ORD_ORGNO`` (5-digit branch), ``ODNO``
(10-digit zero-padded) and ``ORD_TMD`` (HHMMSS, KST). ``ORGN_ODNO`` is accepted unpadded.
"""

from __future__ import annotations

from typing import Any

from stock_manager.domain.orders import Side
from stock_manager.sim.clock import hhmmss
from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.matching import OrderRequest
from stock_manager.sim.messages import InputError, Msg, Rejection
from stock_manager.sim.orders import SimOrder
from stock_manager.sim.request import KisRequest, digits

CASH_INPUTS = ("PDNO", "ORD_DVSN", "ORD_QTY", "ORD_UNPR")
RVSE_INPUTS = (
    "KRX_FWDG_ORD_ORGNO",
    "ORGN_ODNO",
    "ORD_DVSN",
    "RVSE_CNCL_DVSN_CD",
    "ORD_QTY",
    "ORD_UNPR",
    "QTY_ALL_ORD_YN",
)


def _order_output(ex: Exchange, order: SimOrder) -> dict[str, Any]:
    return {
        "KRX_FWDG_ORD_ORGNO": ex.config.dialect.branch,
        "ODNO": f"{order.odno:010d}",
        "ORD_TMD": hhmmss(order.created_at),
    }


def _check_venue(ex: Exchange, req: KisRequest) -> None:
    venue = req.get("EXCG_ID_DVSN_CD").strip().upper()
    allowed = ("", "KRX") if ex.config.env == "paper" else ("", "KRX", "SOR")
    if venue not in allowed:
        raise InputError("EXCG_ID_DVSN_CD")


def _order_type(req: KisRequest) -> str:
    code = req.require("ORD_DVSN").strip()
    if len(code) != 2 or not digits(code):
        raise InputError("ORD_DVSN")
    return code


def order_cash(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    req.require_all(CASH_INPUTS)
    _check_venue(ex, req)
    side = Side.BUY if variant == "buy" else Side.SELL
    if side is Side.SELL:
        req.choice("SLL_TYPE", ("01", "02", "05"), default="01")
    symbol = req.get("PDNO").strip().upper()
    if not symbol:
        raise InputError("PDNO")
    order_req = OrderRequest(
        symbol, side, _order_type(req), req.integer("ORD_QTY", minimum=1), req.integer("ORD_UNPR")
    )
    order = ex.matching.place(order_req, req.now, ex.phase(req.now))
    msg = Msg.BUY_OK if side is Side.BUY else Msg.SELL_OK
    return ok(ex.config.env, msg, output=_order_output(ex, order))


def _original_odno(ex: Exchange, req: KisRequest) -> int:
    branch = req.get("KRX_FWDG_ORD_ORGNO").strip()
    if ex.config.strict and branch.zfill(5) != ex.config.dialect.branch:
        raise Rejection(Msg.NO_SUCH_ORDER, f"branch {branch!r}")
    text = req.get("ORGN_ODNO").strip()
    if not digits(text):
        raise InputError("ORGN_ODNO")
    return int(text)


def order_rvsecncl(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    req.check_account(ex.config)
    req.require_all(RVSE_INPUTS)
    _check_venue(ex, req)
    odno = _original_odno(ex, req)
    action = req.choice("RVSE_CNCL_DVSN_CD", ("01", "02"))
    all_qty = req.choice("QTY_ALL_ORD_YN", ("Y", "N")) == "Y"
    qty = req.integer("ORD_QTY")
    phase = ex.phase(req.now)
    if action == "02":
        record = ex.matching.cancel(odno, qty, all_qty, req.now, phase)
        return ok(ex.config.env, Msg.CANCEL_OK, output=_order_output(ex, record))
    change = OrderRequest("", Side.BUY, _order_type(req), qty, req.integer("ORD_UNPR"))
    record = ex.matching.modify(odno, change, all_qty, req.now, phase)
    return ok(ex.config.env, Msg.MODIFY_OK, output=_order_output(ex, record))
