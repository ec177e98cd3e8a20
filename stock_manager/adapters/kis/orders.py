"""Orders: submit (order-cash), modify and cancel (order-rvsecncl).

Nothing here retries an order; :meth:`KisHttp.request` decides what a failed send means.
Checks that need no broker run before anything is sent and raise ``KISValidationError``:
quantity, price, and order types paper does not accept (ORD_DVSN 00-04 only).
A reply that says "accepted" without an order number is ``KISOrderOutcomeUnknown``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from stock_manager.adapters.kis import mapping, trids
from stock_manager.adapters.kis.errors import KISOrderOutcomeUnknown, KISValidationError
from stock_manager.adapters.kis.http import KisHttp
from stock_manager.adapters.kis.wire import KisResponse
from stock_manager.domain.broker import OrderAck, OrderRequest
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import PAPER_ORDER_TYPES, OrderType, Side

log = logging.getLogger("stock_manager.kis")
EXCHANGE = "KRX"


class KisOrderClient:
    def __init__(
        self, http: KisHttp, *, now: Callable[[], datetime] = lambda: datetime.now(KST)
    ) -> None:
        self.http, self._now = http, now

    def __repr__(self) -> str:
        return f"KisOrderClient({self.http!r})"

    def _account(self) -> dict[str, str]:
        creds = self.http.credentials
        return {"CANO": creds.cano, "ACNT_PRDT_CD": creds.product_code}

    def _check(self, request: OrderRequest) -> None:
        if request.quantity <= 0:
            raise KISValidationError(f"order quantity must be positive, got {request.quantity}")
        if request.order_type.has_price and request.price <= 0:
            raise KISValidationError(f"{request.order_type.name} order needs a price")
        if self.http.env.is_paper and request.order_type not in PAPER_ORDER_TYPES:
            raise KISValidationError(
                f"paper accepts ORD_DVSN 00-04 only, not {request.order_type.code}"
            )

    def submit(self, request: OrderRequest) -> OrderAck:
        """Send a cash order; the ack carries ODNO and the branch (KRX_FWDG_ORD_ORGNO)."""
        self._check(request)
        body = {
            **self._account(),
            "PDNO": request.symbol,
            "ORD_DVSN": request.order_type.code,
            "ORD_QTY": str(request.quantity),
            "ORD_UNPR": _price(request.order_type, request.price),
            "EXCG_ID_DVSN_CD": EXCHANGE,
            "SLL_TYPE": "01" if request.side is Side.SELL else "",
            "CNDT_PRIC": "",
        }
        endpoint = trids.ORDER_SELL if request.side is Side.SELL else trids.ORDER_BUY
        ack = self._ack(self.http.request(endpoint, body=body), "order")
        log.info(
            "KIS order %s %s x%d %s@%d -> %s",
            request.side.value,
            request.symbol,
            request.quantity,
            request.order_type.name,
            request.price,
            ack.broker_order_no,
        )
        return ack

    def modify(
        self, broker_order_no: str, branch: str, request: OrderRequest, all_remaining: bool = True
    ) -> OrderAck:
        """정정: new price/type for ``request.quantity`` shares (or all that remain)."""
        self._check(request)
        return self._revise(
            broker_order_no,
            branch,
            "01",
            request.order_type,
            0 if all_remaining else request.quantity,
            request.price,
        )

    def cancel(self, broker_order_no: str, branch: str, quantity: int | None = None) -> OrderAck:
        """취소 of ``quantity`` shares, or of everything that remains."""
        if quantity is not None and quantity <= 0:
            raise KISValidationError(f"cancel quantity must be positive, got {quantity}")
        return self._revise(broker_order_no, branch, "02", OrderType.LIMIT, quantity or 0, 0)

    def _revise(
        self,
        broker_order_no: str,
        branch: str,
        kind: str,
        order_type: OrderType,
        quantity: int,
        price: int,
    ) -> OrderAck:
        if not broker_order_no.strip():
            raise KISValidationError("modify/cancel needs the original order number")
        body = {
            **self._account(),
            "KRX_FWDG_ORD_ORGNO": branch,
            "ORGN_ODNO": broker_order_no,
            "ORD_DVSN": order_type.code,
            "RVSE_CNCL_DVSN_CD": kind,
            "ORD_QTY": str(quantity),
            "ORD_UNPR": _price(order_type, price) if kind == "01" else "0",
            "QTY_ALL_ORD_YN": "N" if quantity else "Y",
            "EXCG_ID_DVSN_CD": EXCHANGE,
            "CNDT_PRIC": "",
        }
        what = "modify" if kind == "01" else "cancel"
        ack = self._ack(self.http.request(trids.ORDER_RVSECNCL, body=body), what)
        log.info("KIS %s of %s -> %s", what, broker_order_no, ack.broker_order_no)
        return ack

    def _ack(self, reply: KisResponse, what: str) -> OrderAck:
        output = reply.body.row("output")
        odno = output.text("odno")
        if not (odno.isascii() and odno.isdigit() and int(odno) > 0):
            raise KISOrderOutcomeUnknown(
                f"{what} accepted (rt_cd 0) without a usable order number; it may exist",
                status=reply.status,
                tr_id=reply.tr_id,
            )
        return mapping.order_ack(output, self._now().astimezone(KST))


def _price(order_type: OrderType, price: int) -> str:
    return str(price) if order_type.has_price else "0"
