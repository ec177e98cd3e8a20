"""What a symbol is: its instrument type (stock, ETF, ETN) and market (KOSPI, KOSDAQ).

The type comes from the broker (KIS 주식기본조회 ``scty_grp_id_cd``: ST 주권, EF ETF,
EN ETN; ``mket_id_cd``: STK KOSPI, KSQ KOSDAQ; ``etf_chas_erng_rt_dbnb``: the ETF's
tracking multiple) and decides the tick table, the price limits and the sale tax
(``shared/reference/krx.md`` §2-§4): ETF/ETN tick 1 won below 2,000 and 5 won from 2,000;
no securities transaction tax on their sale; a leveraged ETF's limit is ±30 % times its
multiple. Pure: the backtest uses the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class InstrumentKind(Enum):
    STOCK = "stock"
    ETF = "ETF"
    ETN = "ETN"

    @property
    def is_exchange_traded_product(self) -> bool:
        """ETF and ETN: their own tick table, no sale tax."""
        return self is not InstrumentKind.STOCK


class ListingMarket(Enum):
    """The KRX market a symbol is listed on (the broker's and the recorded data's alike)."""

    KOSPI = "KOSPI"
    KOSDAQ = "KOSDAQ"


# KIS scty_grp_id_cd → kind. FE (foreign ETF) trades as an ETF; anything else (ST 주권,
# DR, FS 외국주권, MF, RT, ...) is charged and ticked as a stock.
SECURITY_GROUPS: dict[str, InstrumentKind] = {
    "EF": InstrumentKind.ETF,
    "FE": InstrumentKind.ETF,
    "EN": InstrumentKind.ETN,
}
# KIS mket_id_cd → market.
MARKET_IDS: dict[str, ListingMarket] = {"STK": ListingMarket.KOSPI, "KSQ": ListingMarket.KOSDAQ}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One symbol's type and market; ``multiple`` is an ETF's tracking multiple (2 for a 2x
    leveraged ETF, -1 for an inverse one, 1 otherwise)."""

    symbol: str
    kind: InstrumentKind = InstrumentKind.STOCK
    market: ListingMarket = ListingMarket.KOSPI
    multiple: Decimal = Decimal(1)
    name: str = ""

    @property
    def limit_multiple(self) -> Decimal:
        """How many times the daily ±30 % band applies: a leveraged ETF's own multiple."""
        if self.kind is InstrumentKind.ETF and abs(self.multiple) > 1:
            return abs(self.multiple)
        return Decimal(1)


def kind_of(security_group: str, symbol: str = "") -> InstrumentKind:
    """The kind for a KIS ``scty_grp_id_cd``; an ETN code (``Q`` prefix) is an ETN whatever
    the group says."""
    if symbol.upper().startswith("Q"):
        return InstrumentKind.ETN
    return SECURITY_GROUPS.get(security_group.strip().upper(), InstrumentKind.STOCK)
