"""Where the KIS adapter talks to and what that place offers.

Three environments share one code path: ``sim`` (the built-in simulator, speaking either the
paper or the live dialect), ``paper`` (모의투자) and ``live`` (실전). The *dialect* decides the
tr_id table, the page sizes and which TRs exist; the *name* decides whether orders need
arming. Facts: ``kis-api.md`` §1, §4, §7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from stock_manager.config import Settings
from stock_manager.kis_hosts import live_urls

EnvName = Literal["sim", "paper", "live"]
Dialect = Literal["paper", "live"]


@dataclass(frozen=True, slots=True)
class PageSizes:
    """Rows per page as KIS serves them (paging itself follows ``tr_cont``, whatever the size)."""

    balance: int
    daily_ccld: int
    psbl_rvsecncl: int = 50
    volume_rank: int = 30
    daily_candles: int = 100
    minute_candles: int = 30
    multprice: int = 30


PAGE_SIZES: dict[Dialect, PageSizes] = {
    "live": PageSizes(balance=50, daily_ccld=100),
    "paper": PageSizes(balance=20, daily_ccld=15),
}


@dataclass(frozen=True, slots=True)
class KisEnvironment:
    """One KIS environment: base URLs, dialect, limits and the arming switch."""

    name: EnvName
    dialect: Dialect
    rest_url: str
    ws_url: str
    rate_limit: float
    timeout: float = 5.0
    use_old_tr_ids: bool = False
    trading_armed: bool = False
    use_hashkey: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> KisEnvironment:
        return cls(
            name=settings.kis_env,
            dialect=settings.kis_dialect,
            rest_url=settings.effective_kis_rest_url,
            ws_url=settings.effective_kis_ws_url,
            rate_limit=settings.effective_rate_limit,
            timeout=settings.kis_timeout,
            use_old_tr_ids=settings.kis_use_old_tr_ids,
            trading_armed=settings.trading_armed,
            use_hashkey=settings.kis_use_hashkey,
        )

    @property
    def pages(self) -> PageSizes:
        return PAGE_SIZES[self.dialect]

    @property
    def is_paper(self) -> bool:
        return self.dialect == "paper"

    @property
    def is_live(self) -> bool:
        """Live when ``KIS_ENV=live`` or when either URL reaches a host that is neither
        loopback nor the paper host (``kis_hosts.host_kind``), whatever the name says."""
        return self.name == "live" or bool(live_urls(self.rest_url, self.ws_url))

    @property
    def orders_allowed(self) -> bool:
        """Live orders need ``TRADING_ARMED=true``; loopback and paper hosts never do."""
        return not self.is_live or self.trading_armed

    @property
    def notice_tr_id(self) -> str:
        """The execution-notice TR: H0STCNI0 live, H0STCNI9 paper (kis-api §6)."""
        return "H0STCNI9" if self.is_paper else "H0STCNI0"

    @property
    def ws_endpoint(self) -> str:
        """The WebSocket URL to dial: ``<ws base>/tryitout`` unless the base carries a path."""
        parts = urlsplit(self.ws_url)
        if parts.path not in ("", "/"):
            return self.ws_url
        return self.ws_url.rstrip("/") + "/tryitout"
