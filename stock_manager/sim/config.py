"""The simulator's configuration and the two KIS dialects it speaks.

Defaults match what the rest of the system expects of the built-in simulator
(``stock_manager.config``: ``SIM_APP_KEY``, ``SIM_APP_SECRET``, ``SIM_REST_URL``,
``SIM_WS_URL``, account ``12345678-01``, HTS ID ``simuser``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Literal

from stock_manager.config import SIM_APP_KEY, SIM_APP_SECRET
from stock_manager.domain.fees import FeeSchedule
from stock_manager.sim.faults import FaultProfile
from stock_manager.sim.recorded import RecordedDay
from stock_manager.sim.vi import ViSettings

Dialect = Literal["paper", "live"]
# Real-time record layouts: "extended" = H0STCNT0 47 / H0STASP0 63 fields, with the fields KRX
# added for its after-market session on 2026-09-14; "classic" = 46 / 59, as the official
# samples (2026-07) list them. ⚠ evidence in docs/simulator.md.
WsLayout = Literal["extended", "classic"]
WS_LAYOUTS: tuple[WsLayout, ...] = ("extended", "classic")
# tr_cont of a first page with more after it: F (portal text, kis-trader's observation) or M.
FIRST_PAGE_CONTS = ("F", "M")
DEFAULT_ACCOUNT = "12345678-01"
DEFAULT_HTS_ID = "simuser"
DEFAULT_REST_PORT = 18080
DEFAULT_WS_PORT = 18081
ACCOUNT_RE = re.compile(r"^(\d{8})-?(\d{2})$")

LIVE_ORDER_TYPES = frozenset({"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16"})
PAPER_ORDER_TYPES = frozenset({"00", "01", "02", "03", "04"})


@dataclass(frozen=True, slots=True)
class DialectRules:
    """What differs between the live (실전) and paper (모의) servers."""

    name: Dialect
    rate_limit: float  # requests per second per app key
    balance_page: int  # inquire-balance rows per page
    ccld_page: int  # inquire-daily-ccld rows per page
    rvsecncl_page: int  # inquire-psbl-rvsecncl rows per page
    branch: str  # KRX_FWDG_ORD_ORGNO
    notice_tr_id: str  # execution notices over WebSocket
    order_types: frozenset[str]  # accepted ORD_DVSN codes


DIALECTS: dict[Dialect, DialectRules] = {
    "live": DialectRules("live", 20.0, 50, 100, 50, "06590", "H0STCNI0", LIVE_ORDER_TYPES),
    "paper": DialectRules("paper", 2.0, 20, 15, 50, "00950", "H0STCNI9", PAPER_ORDER_TYPES),
}


class SimConfigError(ValueError):
    """A simulator option is invalid; the message names it."""


@dataclass(slots=True)
class SimConfig:
    """Everything one simulator instance needs; every field has a working default."""

    env: Dialect = "live"
    host: str = "127.0.0.1"
    rest_port: int = DEFAULT_REST_PORT
    ws_port: int = DEFAULT_WS_PORT
    app_key: str = SIM_APP_KEY
    app_secret: str = SIM_APP_SECRET
    account: str = DEFAULT_ACCOUNT
    hts_id: str = DEFAULT_HTS_ID
    symbols: int = 30
    symbols_file: Path | None = None
    seed: int = 42
    cash: int = 10_000_000
    # Session: ``session_minutes`` opens a compressed session now; otherwise explicit times,
    # otherwise the regular KRX day (09:00 continuous, 15:20 closing call, 15:30 close).
    session_minutes: float | None = None
    session_delay: float = 0.0  # a compressed session opens this many seconds after start
    session_open: time | None = None
    session_close: time | None = None
    auction_end: time | None = None
    auction_seconds: float | None = None  # closing call length (default 10 s / 10 min)
    candle_seconds: float = 60.0  # real seconds one "minute candle" spans
    tick_interval: float = 0.5  # mean seconds between simulated trades of one symbol
    history_candles: int = 60  # intraday candles generated before the start
    history_days: int = 120  # daily bars before today
    rate_limit: float | None = None  # requests/s per app key; None = dialect, 0 = off
    faults: FaultProfile = field(default_factory=FaultProfile)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    token_issue_interval: float = 60.0  # one /oauth2/tokenP per app key per this many s
    token_reuse_window: float = 6 * 3600.0  # the same token again within this many s
    token_lifetime: float = 86_400.0
    token_error_status: int = 500  # HTTP status of EGW00121/EGW00123 on /uapi calls
    ws_ping_interval: float = 30.0  # seconds between PINGPONG frames
    ws_max_subscriptions: int = 41
    ws_sessions_per_key: int = 1
    ws_queue_limit: int = 50_000  # frames buffered per socket before it is dropped
    fill_on_touch: bool = True  # resting limits fill when the market trades at their price
    strict: bool = True  # POST bodies: UPPERCASE keys, string values, JSON content type
    ws_layout: WsLayout = "extended"  # real-time record layout (⚠, see WsLayout)
    first_page_cont: str = "F"  # tr_cont of a first page with more rows after it (⚠)
    # inquire-balance INQR_DVSN=02 (종목별): refused with OPSQ2001 as observed on 2026-02-10
    # (python-kis #81), or accepted like 01 (kis-trader 0.12.2 still sends it) ⚠.
    accept_inqr_dvsn_02: bool = False
    max_catchup_seconds: float = 2.0  # a stalled market skips, not replays, older trades
    vi: ViSettings = field(default_factory=ViSettings)  # volatility interruptions (⚠ values)
    # A recorded day to replay instead of the random walk: its symbols are the universe and
    # its minute ``m`` plays as candle ``m`` of the session (``stock_manager.sim.recorded``).
    replay: RecordedDay | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        problems = [*self._market_problems(), *self._identity_problems()]
        if problems:
            raise SimConfigError("; ".join(problems))

    def _market_problems(self) -> list[str]:
        problems = []
        if self.env not in DIALECTS:
            problems.append(f"env must be paper or live, got {self.env!r}")
        if self.symbols < 1 and self.symbols_file is None:
            problems.append("symbols must be at least 1")
        if self.tick_interval <= 0 or self.candle_seconds <= 0:
            problems.append("tick_interval and candle_seconds must be positive")
        if self.session_minutes is not None and self.session_minutes <= 0:
            problems.append("session_minutes must be positive")
        if (self.session_open is None) != (self.session_close is None):
            problems.append("session_open and session_close go together")
        if self.cash < 0:
            problems.append("cash must not be negative")
        if self.rate_limit is not None and self.rate_limit < 0:
            problems.append("rate_limit must not be negative (0 lifts it)")
        if self.ws_layout not in WS_LAYOUTS:
            problems.append(f"ws_layout must be extended or classic, got {self.ws_layout!r}")
        if self.first_page_cont not in FIRST_PAGE_CONTS:
            problems.append(f"first_page_cont must be F or M, got {self.first_page_cont!r}")
        return problems

    def _identity_problems(self) -> list[str]:
        problems = []
        if not ACCOUNT_RE.match(self.account):
            problems.append(f"account must look like 12345678-01, got {self.account!r}")
        if self.session_delay < 0:
            problems.append("session_delay must not be negative")
        if not self.app_key or not self.app_secret or not self.hts_id:
            problems.append("app_key, app_secret and hts_id must not be empty")
        return problems

    @property
    def dialect(self) -> DialectRules:
        return DIALECTS[self.env]

    @property
    def effective_rate_limit(self) -> float:
        """Requests per second per app key; 0 means unlimited."""
        return self.dialect.rate_limit if self.rate_limit is None else self.rate_limit

    @property
    def cano(self) -> str:
        """The 8-digit account number (CANO)."""
        return self.account.replace("-", "")[:8]

    @property
    def product_code(self) -> str:
        """The 2-digit product code (ACNT_PRDT_CD)."""
        return self.account.replace("-", "")[8:]
