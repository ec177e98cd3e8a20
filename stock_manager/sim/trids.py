"""Which path answers which tr_id, per dialect (kis-api.md §4).

Paper tr_ids are the live ones with the first letter of a trading TR (T/J/C) replaced by
``V``; quote TRs (``F…``/``H…``) are the same on both. A path the paper server does not
offer answers HTTP 500 ``EGW02006`` there, whatever tr_id was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from stock_manager.sim.config import Dialect

Method = Literal["GET", "POST"]
PREFIX = "/uapi/domestic-stock/v1/"
OVERSEAS = "/uapi/overseas-stock/v1/trading/"


def paper_tr_id(live_tr_id: str) -> str:
    """The paper twin of a live tr_id: trading TRs swap their first letter for ``V``."""
    if live_tr_id[:1] in {"T", "J", "C"}:
        return "V" + live_tr_id[1:]
    return live_tr_id


@dataclass(frozen=True, slots=True)
class TrSpec:
    """One REST function: its path, method and tr_ids (``tr_id -> variant``)."""

    name: str
    method: Method
    path: str
    live: MappingProxyType[str, str]
    on_paper: bool = True
    paper: MappingProxyType[str, str] = field(init=False)

    def __post_init__(self) -> None:
        twins = {paper_tr_id(tr_id): variant for tr_id, variant in self.live.items()}
        object.__setattr__(self, "paper", MappingProxyType(twins if self.on_paper else {}))

    def tr_ids(self, dialect: Dialect) -> MappingProxyType[str, str]:
        return self.live if dialect == "live" else self.paper


def _spec(
    name: str, method: Method, path: str, ids: dict[str, str], on_paper: bool = True
) -> TrSpec:
    full = path if path.startswith("/") else PREFIX + path
    return TrSpec(name, method, full, MappingProxyType(ids), on_paper)


SPECS: tuple[TrSpec, ...] = (
    _spec("inquire_price", "GET", "quotations/inquire-price", {"FHKST01010100": ""}),
    _spec("multprice", "GET", "quotations/intstock-multprice", {"FHKST11300006": ""}, False),
    _spec("asking_price", "GET", "quotations/inquire-asking-price-exp-ccn", {"FHKST01010200": ""}),
    _spec("daily_chart", "GET", "quotations/inquire-daily-itemchartprice", {"FHKST03010100": ""}),
    _spec("minute_chart", "GET", "quotations/inquire-time-itemchartprice", {"FHKST03010200": ""}),
    _spec("daily_price", "GET", "quotations/inquire-daily-price", {"FHKST01010400": ""}),
    _spec("volume_rank", "GET", "quotations/volume-rank", {"FHPST01710000": ""}, False),
    _spec("chk_holiday", "GET", "quotations/chk-holiday", {"CTCA0903R": ""}, False),
    # "실전계좌의 경우 최대 120건" (official sample) implies paper serves it too ⚠.
    _spec(
        "time_daily_chart", "GET", "quotations/inquire-time-dailychartprice", {"FHKST03010230": ""}
    ),
    _spec("search_info", "GET", "quotations/search-info", {"CTPF1604R": ""}, False),
    _spec("search_stock_info", "GET", "quotations/search-stock-info", {"CTPF1002R": ""}, False),
    _spec(
        "order_cash",
        "POST",
        "trading/order-cash",
        {"TTTC0012U": "buy", "TTTC0011U": "sell", "TTTC0802U": "buy", "TTTC0801U": "sell"},
    ),
    _spec("order_rvsecncl", "POST", "trading/order-rvsecncl", {"TTTC0013U": "", "TTTC0803U": ""}),
    _spec("balance", "GET", "trading/inquire-balance", {"TTTC8434R": ""}),
    _spec(
        "daily_ccld",
        "GET",
        "trading/inquire-daily-ccld",
        {"TTTC0081R": "recent", "TTTC8001R": "recent", "CTSC9215R": "old", "CTSC9115R": "old"},
    ),
    _spec("psbl_order", "GET", "trading/inquire-psbl-order", {"TTTC8908R": ""}),
    _spec(
        "psbl_rvsecncl",
        "GET",
        "trading/inquire-psbl-rvsecncl",
        {"TTTC0084R": "", "TTTC8036R": ""},
        False,
    ),
    _spec("psbl_sell", "GET", "trading/inquire-psbl-sell", {"TTTC8408R": ""}, False),
    # Overseas queries some clients make while starting up (python-kis); the simulator has no
    # overseas market, so they answer an empty list.
    _spec("overseas_nccs", "GET", OVERSEAS + "inquire-nccs", {"TTTS3018R": ""}),
    _spec("overseas_ccnl", "GET", OVERSEAS + "inquire-ccnl", {"TTTS3035R": ""}),
)
BY_PATH: MappingProxyType[str, TrSpec] = MappingProxyType({spec.path: spec for spec in SPECS})


@dataclass(frozen=True, slots=True)
class Resolved:
    spec: TrSpec
    variant: str


class TrError(Exception):
    """The tr_id or path cannot be served; carries the KIS code, message and HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.status = status
        self.code = code
        self.message = message


NOT_ON_PAPER = TrError(500, "EGW02006", "모의투자 TR 이 아닙니다.")


def resolve(dialect: Dialect, method: str, path: str, tr_id: str) -> Resolved:
    """Find the function for a request, or raise :class:`TrError` as KIS would answer."""
    spec = BY_PATH.get(path)
    if spec is None:
        raise TrError(404, "EGW00101", "유효하지 않은 요청입니다. (없는 URL)")
    if method != spec.method:
        raise TrError(405, "EGW00101", f"유효하지 않은 요청입니다. ({method} 불가)")
    if dialect == "paper" and not spec.on_paper:
        raise NOT_ON_PAPER
    table = spec.tr_ids(dialect)
    key = tr_id.strip().upper()
    if key in table:
        return Resolved(spec, table[key])
    if dialect == "paper" and key in spec.live:
        raise NOT_ON_PAPER
    raise TrError(500, "OPSQ0002", "없는 서비스 코드 입니다")
