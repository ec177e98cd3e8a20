"""A deliberately plain KIS client for conformance tests, written from the reference.

It does not use ``stock_manager.adapters.kis``: the point is to check the simulator against
the documented wire protocol, independently of our own client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from stock_manager.sim.config import SimConfig
from stock_manager.sim.server import SimServer

V1 = "/uapi/domestic-stock/v1"


def all_strings(value: Any) -> bool:
    """Every leaf of a KIS body is a string."""
    if isinstance(value, dict):
        return all(all_strings(item) for item in value.values())
    if isinstance(value, list):
        return all(all_strings(item) for item in value)
    return isinstance(value, str)


class Kis:
    """REST calls with the headers KIS expects; one token per instance."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.config: SimConfig = server.config
        self.http = httpx.Client(base_url=server.rest_url, timeout=10.0)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    # -- auth ----------------------------------------------------------------------------------
    def issue_token(self) -> httpx.Response:
        body = {
            "grant_type": "client_credentials",
            "appkey": self.config.app_key,
            "appsecret": self.config.app_secret,
        }
        return self.http.post("/oauth2/tokenP", json=body)

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.issue_token()
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def approval_key(self) -> str:
        body = {
            "grant_type": "client_credentials",
            "appkey": self.config.app_key,
            "secretkey": self.config.app_secret,
        }
        response = self.http.post("/oauth2/Approval", json=body)
        response.raise_for_status()
        return str(response.json()["approval_key"])

    def headers(self, tr_id: str, tr_cont: str = "", token: str | None = None) -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "authorization": f"Bearer {token or self.token}",
            "appkey": self.config.app_key,
            "appsecret": self.config.app_secret,
            "tr_id": tr_id,
            "tr_cont": tr_cont,
            "custtype": "P",
        }

    # -- calls ---------------------------------------------------------------------------------
    def get(
        self, path: str, tr_id: str, params: dict[str, str], tr_cont: str = ""
    ) -> httpx.Response:
        return self.http.get(V1 + path, params=params, headers=self.headers(tr_id, tr_cont))

    def post(self, path: str, tr_id: str, body: dict[str, str]) -> httpx.Response:
        return self.http.post(V1 + path, content=json.dumps(body), headers=self.headers(tr_id))

    def tr(self, live: str) -> str:
        """The tr_id for this server's dialect (paper swaps T/J/C for V)."""
        if self.config.env == "paper" and live[0] in "TJC":
            return "V" + live[1:]
        return live

    def price(self, symbol: str) -> dict[str, Any]:
        params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": symbol}
        response = self.get("/quotations/inquire-price", "FHKST01010100", params)
        return dict(response.json()["output"])

    def account(self) -> dict[str, str]:
        cano, product = self.config.account.split("-")
        return {"CANO": cano, "ACNT_PRDT_CD": product}

    def order(
        self, side: str, symbol: str, ord_dvsn: str, qty: int, price: int = 0, old_tr: bool = False
    ) -> httpx.Response:
        live = {
            ("buy", False): "TTTC0012U",
            ("sell", False): "TTTC0011U",
            ("buy", True): "TTTC0802U",
            ("sell", True): "TTTC0801U",
        }[(side, old_tr)]
        body = {
            **self.account(),
            "PDNO": symbol,
            "ORD_DVSN": ord_dvsn,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "EXCG_ID_DVSN_CD": "KRX",
        }
        return self.post("/trading/order-cash", self.tr(live), body)

    def revise(
        self,
        odno: str,
        action: str,
        ord_dvsn: str = "00",
        qty: int = 0,
        price: int = 0,
        all_qty: bool = True,
    ) -> httpx.Response:
        body = {
            **self.account(),
            "KRX_FWDG_ORD_ORGNO": self.config.dialect.branch,
            "ORGN_ODNO": odno,
            "ORD_DVSN": ord_dvsn,
            "RVSE_CNCL_DVSN_CD": action,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "QTY_ALL_ORD_YN": "Y" if all_qty else "N",
        }
        return self.post("/trading/order-rvsecncl", self.tr("TTTC0013U"), body)

    def balance(self, tr_cont: str = "", fk: str = "", nk: str = "") -> httpx.Response:
        params = {
            **self.account(),
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "01",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
        }
        return self.get("/trading/inquire-balance", self.tr("TTTC8434R"), params, tr_cont)

    def daily_ccld(
        self,
        day: str,
        tr_cont: str = "",
        fk: str = "",
        nk: str = "",
        ccld: str = "00",
        order: str = "01",
    ) -> httpx.Response:
        params = {
            **self.account(),
            "INQR_STRT_DT": day,
            "INQR_END_DT": day,
            "SLL_BUY_DVSN_CD": "00",
            "INQR_DVSN": order,
            "PDNO": "",
            "CCLD_DVSN": ccld,
            "ORD_GNO_BRNO": "",
            "ODNO": "",
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
            "EXCG_ID_DVSN_CD": "KRX",
        }
        return self.get("/trading/inquire-daily-ccld", self.tr("TTTC0081R"), params, tr_cont)

    # -- admin ---------------------------------------------------------------------------------
    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if body is None:
            response = self.http.get(f"/_sim/{path}")
        else:
            response = self.http.post(f"/_sim/{path}", json=body)
        response.raise_for_status()
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        return self.admin("state")

    def symbol(self, index: int = 0) -> dict[str, Any]:
        return dict(self.admin("symbols")["symbols"][index])


def subscribe_message(approval_key: str, tr_id: str, tr_key: str, tr_type: str = "1") -> str:
    header = {
        "approval_key": approval_key,
        "custtype": "P",
        "tr_type": tr_type,
        "content-type": "utf-8",
    }
    return json.dumps({"header": header, "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}}})


@contextmanager
def ws_connect(server: SimServer, path: str = "/tryitout") -> Iterator[ClientConnection]:
    with connect(server.ws_url + path, open_timeout=5, close_timeout=1) as socket:
        yield socket


def recv_json(socket: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """The next JSON (non-data, non-PINGPONG) frame."""
    while True:
        frame = socket.recv(timeout=timeout)
        assert isinstance(frame, str)
        if frame[0] in "01":
            continue
        message = dict(json.loads(frame))
        if message["header"]["tr_id"] != "PINGPONG":
            return message


def recv_data(socket: ClientConnection, tr_id: str, timeout: float = 5.0) -> list[str]:
    """The next data frame of ``tr_id``, split into its four parts."""
    while True:
        frame = socket.recv(timeout=timeout)
        assert isinstance(frame, str)
        if frame[0] in "01" and frame.split("|", 2)[1] == tr_id:
            return frame.split("|", 3)
