"""Every REST endpoint the adapter calls, with its live and paper tr_ids (kis-api §4).

Paper tr_ids are the live ones with a leading T/J/C replaced by ``V``; quotation TRs
(``F…``/``H…``) are the same on both. ``paper=False`` marks TRs that 모의투자 lacks: the
adapter refuses them before sending (paper answers them with HTTP 500 ``EGW02006``).
Order TRs have a new and an old id; the old ones are sent only with ``KIS_USE_OLD_TR_IDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["GET", "POST"]
_QUOTES = "/uapi/domestic-stock/v1/quotations/"
_TRADING = "/uapi/domestic-stock/v1/trading/"


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: Method
    path: str
    live: str = ""
    live_old: str = ""
    paper: bool = True
    order: bool = False  # sends money: never retried blindly (kis-adapter.md)

    def tr_id(self, dialect: Literal["paper", "live"], old: bool = False) -> str:
        """The tr_id for ``dialect``; ``old`` picks the pre-2024 id where one exists."""
        base = self.live_old if old and self.live_old else self.live
        if dialect == "live" or not base or base[0] not in "TJC":
            return base
        return "V" + base[1:]

    def offered(self, dialect: Literal["paper", "live"]) -> bool:
        return dialect == "live" or self.paper


def _q(name: str, live: str, paper: bool = True) -> Endpoint:
    return Endpoint(name, "GET", _QUOTES + name, live, paper=paper)


def _t(name: str, live: str, old: str = "", paper: bool = True) -> Endpoint:
    return Endpoint(name, "GET", _TRADING + name, live, old, paper=paper)


def _order(name: str, live: str, old: str) -> Endpoint:
    return Endpoint(name, "POST", _TRADING + name, live, old, order=True)


INQUIRE_PRICE = _q("inquire-price", "FHKST01010100")
MULTPRICE = _q("intstock-multprice", "FHKST11300006", paper=False)
ASKING_PRICE = _q("inquire-asking-price-exp-ccn", "FHKST01010200")
DAILY_CHART = _q("inquire-daily-itemchartprice", "FHKST03010100")
TIME_CHART = _q("inquire-time-itemchartprice", "FHKST03010200")
TIME_DAILY_CHART = _q("inquire-time-dailychartprice", "FHKST03010230", paper=False)
STOCK_INFO = _q("search-stock-info", "CTPF1002R", paper=False)
DAILY_PRICE = _q("inquire-daily-price", "FHKST01010400")
VOLUME_RANK = _q("volume-rank", "FHPST01710000", paper=False)
HOLIDAY = _q("chk-holiday", "CTCA0903R", paper=False)
STOCK_INFO = _q("search-stock-info", "CTPF1002R", paper=False)  # 주식기본조회

ORDER_BUY = _order("order-cash", "TTTC0012U", "TTTC0802U")
ORDER_SELL = _order("order-cash", "TTTC0011U", "TTTC0801U")
ORDER_RVSECNCL = _order("order-rvsecncl", "TTTC0013U", "TTTC0803U")

BALANCE = _t("inquire-balance", "TTTC8434R")
DAILY_CCLD = _t("inquire-daily-ccld", "TTTC0081R", "TTTC8001R")
DAILY_CCLD_BEFORE_3M = _t("inquire-daily-ccld", "CTSC9215R", "CTSC9115R")
PSBL_ORDER = _t("inquire-psbl-order", "TTTC8908R")
PSBL_RVSECNCL = _t("inquire-psbl-rvsecncl", "TTTC0084R", "TTTC8036R", paper=False)

TOKEN = Endpoint("tokenP", "POST", "/oauth2/tokenP")
REVOKE = Endpoint("revokeP", "POST", "/oauth2/revokeP")
APPROVAL = Endpoint("Approval", "POST", "/oauth2/Approval")
HASHKEY = Endpoint("hashkey", "POST", "/uapi/hashkey")

ALL = (
    INQUIRE_PRICE,
    MULTPRICE,
    ASKING_PRICE,
    DAILY_CHART,
    TIME_CHART,
    TIME_DAILY_CHART,
    STOCK_INFO,
    DAILY_PRICE,
    VOLUME_RANK,
    HOLIDAY,
    STOCK_INFO,
    ORDER_BUY,
    ORDER_SELL,
    ORDER_RVSECNCL,
    BALANCE,
    DAILY_CCLD,
    DAILY_CCLD_BEFORE_3M,
    PSBL_ORDER,
    PSBL_RVSECNCL,
)
