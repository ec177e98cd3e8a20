"""Settings from the environment (and ``.env``), checked once at start-up.

Every setting is an environment variable of the same name in upper case; ``.env.example``
documents each one. A bad value raises :class:`ConfigError` naming the setting and what is
wrong with it; secrets are ``SecretStr`` and never appear in messages or reprs. Nothing else
escapes :func:`load_settings`, whatever the environment holds (issue 11): a bad value is
quoted cut short with any URL password masked, an unreadable ``.env`` is a ``ConfigError``,
and numbers no timer or rule can use (infinity, NaN, seconds beyond ``MAX_SECONDS``,
decimals beyond ``MAX_DECIMAL_DIGITS`` significant digits or ``10**±MAX_DECIMAL_DIGITS``)
are refused here rather than failing later in a timer or a calculation.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from datetime import time, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stock_manager.adapters.embedded_redis import EmbeddedRedis
from stock_manager.domain.fees import FeeBasis, FeeRounding, FeeSchedule
from stock_manager.domain.session import CutoffPolicy
from stock_manager.kis_hosts import live_urls

KisEnv = Literal["sim", "paper", "live"]
ACCOUNT_PATTERN = re.compile(r"^\d{8}-\d{2}$")

# What the built-in simulator accepts unless told otherwise (``stock-manager sim --help``).
# 36 characters, as KIS app keys are (python-kis refuses any other length).
SIM_APP_KEY = "PSsimulatorAppKey0000000000000000000"
SIM_APP_SECRET = "sim-secret-" + "0" * 169
SIM_REST_URL = "http://127.0.0.1:18080"
SIM_WS_URL = "ws://127.0.0.1:18081"
KIS_URLS = {
    "live": ("https://openapi.koreainvestment.com:9443", "ws://ops.koreainvestment.com:21000"),
    "paper": ("https://openapivts.koreainvestment.com:29443", "ws://ops.koreainvestment.com:31000"),
}
DEFAULT_RATE_LIMITS = {"live": 18.0, "paper": 1.8}  # headroom under KIS's 20/s and 2/s
MAX_SECONDS = 7 * 86_400  # no interval, timeout or TTL here means more than a week
MAX_DECIMAL_DIGITS = 20  # rates, factors and percentages: nothing near 20 digits or 1e20
_SHOWN = 20  # a longer bad value is described by its length, never quoted (a secret?)


class ConfigError(Exception):
    """The configuration cannot work; the message names each setting and the problem."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "stock-manager"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """The effective configuration of one process."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        allow_inf_nan=False,
        env_ignore_empty=True,  # VAR= (compose's ${VAR:-}) means unset, not ""
    )

    # -- storage and broker ----------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    celery_broker_url: str | None = None
    lock_backend: Literal["redis", "sql"] | None = None
    auto_migrate: bool | None = None  # default: only on the embedded SQLite database

    # -- KIS ---------------------------------------------------------------------------------
    kis_env: KisEnv = "sim"
    kis_app_key: SecretStr | None = None
    kis_app_secret: SecretStr | None = None
    kis_account_no: str = "12345678-01"
    kis_hts_id: str = "simuser"
    kis_rest_url: str | None = None
    kis_ws_url: str | None = None
    kis_sim_dialect: Literal["paper", "live"] = "live"
    kis_use_old_tr_ids: bool = False
    kis_rate_limit: float | None = Field(default=None, gt=0, le=100)
    kis_timeout: float = Field(default=5.0, gt=0, le=60)
    trading_armed: bool = False
    kis_use_hashkey: bool = False  # send a hashkey header with orders (optional at KIS)
    kis_token_refresh_margin: float = Field(default=1800.0, ge=0, le=43_200)
    kis_redis_namespace: str = "sm:kis:"
    kis_read_attempts: int = Field(default=3, ge=1, le=10)
    kis_throttle_budget: float = Field(default=5.0, ge=0, le=60)
    kis_rate_wait_timeout: float = Field(default=10.0, gt=0, le=300)
    kis_ws_max_subscriptions: int = Field(default=41, ge=1, le=41)
    stream_refresh_interval: float = Field(default=30.0, gt=0)

    # -- workers and leases ----------------------------------------------------------------
    worker_lock_ttl: float = Field(default=90.0, gt=0)
    worker_heartbeat_interval: float = Field(default=10.0, gt=0)
    worker_poll_interval: float = Field(default=2.0, gt=0)
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    task_soft_time_limit: float = Field(default=45.0, gt=0)
    task_time_limit: float = Field(default=60.0, gt=0)
    broker_visibility_timeout: float = Field(default=300.0, gt=0)
    # An UNKNOWN order missing from a complete read begun this long after its send ended is
    # proven absent (⚠ how long KIS takes to list a new order is not documented).
    unknown_propagation_seconds: float = Field(default=3.0, ge=0, le=120)
    # The 3 s order sync leaves a working order (SUBMITTED, PARTIALLY_FILLED) this long after
    # its last change to the execution notices, which bring its fills without a read; 0 reads
    # every order every cycle (as it does anyway when no HTS ID subscribes the notices).
    order_sync_notice_grace: float = Field(default=5.0, ge=0, le=300)

    # -- schedule (Asia/Seoul) -------------------------------------------------------------
    market_open_time: time = time(8, 50)
    market_close_time: time = time(15, 35)
    liquidation_time: time = time(15, 10)
    daily_summary_time: time = time(15, 45)
    scan_interval: float = Field(default=30.0, gt=0)
    price_check_interval: float = Field(default=2.0, gt=0)
    order_sync_interval: float = Field(default=3.0, gt=0)
    lock_sweep_interval: float = Field(default=30.0, gt=0)
    reconcile_interval: float = Field(default=60.0, gt=0)
    entry_cutoff_lead: timedelta = timedelta(minutes=20)
    liquidation_lead: timedelta = timedelta(minutes=10)
    hard_cut_lead: timedelta = timedelta(minutes=1)
    liquidation_escalate_seconds: float = Field(default=20.0, gt=0)
    liquidation_reprice_seconds: float = Field(default=1.0, gt=0)
    # ticks below the best bid for the first liquidation sell (it trades at the bids' prices)
    liquidation_limit_ticks: int = Field(default=3, ge=0, le=50)
    liquidation_round_seconds: float = Field(default=3.0, gt=0)
    session_open: time | None = None  # override today's continuous session (sim, demo)
    session_close: time | None = None

    # -- strategy and risk -----------------------------------------------------------------
    strategies: CsvList = Field(default_factory=lambda: ["momentum_breakout"])
    universe: CsvList = Field(default_factory=list)
    momentum_lookback: int = Field(default=20, ge=2, le=120)
    momentum_volume_factor: Decimal = Field(default=Decimal("1.5"), gt=0)
    bollinger_period: int = Field(default=20, ge=5, le=120)
    bollinger_width: Decimal = Field(default=Decimal("2.0"), gt=0)
    max_positions: int = Field(default=5, ge=0)
    max_notional_per_symbol: int = Field(default=2_000_000, gt=0)
    max_total_notional: int = Field(default=10_000_000, gt=0)
    max_daily_loss: int = Field(default=300_000, gt=0)
    max_orders_per_minute: int = Field(default=60, gt=0)
    stop_loss_pct: Decimal = Field(default=Decimal("3.0"), gt=0, lt=30)
    take_profit_pct: Decimal = Field(default=Decimal("5.0"), gt=0)
    trailing_stop_pct: Decimal = Field(default=Decimal("2.0"), gt=0, lt=30)
    max_holding_minutes: int = Field(default=120, gt=0)
    # Shares the system did not open (carried over, bought by hand): manage (exit rules and
    # liquidation apply), ignore (left alone, outside liquidation), liquidate (sold at once).
    external_holdings: Literal["manage", "ignore", "liquidate"] = "manage"
    commission_rate: Decimal = Field(default=Decimal("0.000140527"), ge=0, lt=1)
    sell_tax_rate: Decimal = Field(default=Decimal("0.0020"), ge=0, lt=1)
    fee_rounding: FeeRounding = FeeRounding.FLOOR
    # ETF/ETN commission (krx.md §4: 0.0146527 % 🟡); their sales pay no tax.
    etp_commission_rate: Decimal = Field(default=Decimal("0.000146527"), ge=0, lt=1)
    # ⚠ Costs per execution (as KIS and the simulator charge) or on each order's cumulative
    # amount, until KIS's statements confirm one.
    fee_basis: FeeBasis = FeeBasis.EXECUTION

    # -- operations ------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = None
    slack_channel: str | None = None
    slack_base_url: str | None = None
    slack_warning_batch_seconds: float = Field(default=300.0, gt=0)
    slack_dedupe_seconds: float = Field(default=60.0, ge=0)
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    dead_man_seconds: float = Field(default=30.0, gt=0)
    # Healthy price checks for this long lift a dead-man halt (with an alert) ...
    dead_man_resume_seconds: float = Field(default=120.0, gt=0)
    # ... unless this keeps the halt for the rest of the day.
    dead_man_hold_day: bool = False
    flower_basic_auth: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # -- production set-up (issue 14): checked by config_rules.py --------------------------
    # Seconds the beat leader's lock lives unless extended (every tick); a standby takes over
    # at most this long (plus 1 s) after the leader died.
    beat_lock_timeout: float = Field(default=20.0, gt=0)
    # Where the simulator is under KIS_ENV=sim (KIS_REST_URL/KIS_WS_URL override any env).
    kis_sim_rest_url: str = SIM_REST_URL
    kis_sim_ws_url: str = SIM_WS_URL
    # Order types (OrderType names) of strategy and policy exits, and of liquidation's resend.
    exit_order_type: str = "BEST"
    liquidation_escalation_order_type: str = "MARKET"
    # The exit in a single-price auction (VI, closing call), where BEST is refused:
    # LIMIT (at the lower limit, crossing at the auction's price) or MARKET.
    exit_auction_order_type: Literal["LIMIT", "MARKET"] = "LIMIT"
    # Names of registered custom candidate filters (services/scan.py register_filter).
    scan_filters: CsvList = Field(default_factory=list)
    # The scan's volume ranking includes ETFs (leveraged and inverse ones are the day
    # traders' favourites); ETNs, preferred shares and warned issues stay out.
    scan_etfs: bool = False

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expanded(cls, value: Path) -> Path:
        return value.expanduser().absolute()  # "~/x" was a folder named "~"

    @field_validator("strategies", "universe", "scan_filters", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("*")
    @classmethod
    def _usable_number(cls, value: Any) -> Any:
        if isinstance(value, float) and not (math.isfinite(value) and value <= MAX_SECONDS):
            raise ValueError(f"must be a finite number of seconds up to {MAX_SECONDS}")
        if isinstance(value, Decimal) and not _bounded_decimal(value):
            raise ValueError(
                f"must be finite, with at most {MAX_DECIMAL_DIGITS} significant digits, "
                f"between 1e-{MAX_DECIMAL_DIGITS} and 1e{MAX_DECIMAL_DIGITS}"
            )
        return value

    @field_validator("trading_armed", mode="before")
    @classmethod
    def _armed_exactly(cls, value: Any) -> Any:
        # Docs say "true": a hopeful "yes", "1" or "on" must not arm live trading (issue 13).
        if isinstance(value, bool):
            return value
        if value in ("true", "false", ""):
            return value == "true"
        raise ValueError("must be exactly 'true' (armed) or 'false'; yes/1/on do not arm")

    @field_validator("kis_account_no")
    @classmethod
    def _account(cls, value: str) -> str:
        if not ACCOUNT_PATTERN.match(value):
            raise ValueError("must be 8 digits, a dash and 2 digits, like 12345678-01")
        return value

    @field_validator("universe")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not re.fullmatch(r"[0-9A-Z]{6,7}", s)]
        if bad:
            raise ValueError(f"symbols must be 6-character KRX codes, got {bad}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        from stock_manager.config_rules import production_problems

        problems = [*self._timing_problems(), *self._backend_problems()]
        problems += production_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _timing_problems(self) -> list[str]:
        chain = [
            ("TASK_SOFT_TIME_LIMIT", self.task_soft_time_limit),
            ("TASK_TIME_LIMIT", self.task_time_limit),
            ("WORKER_LOCK_TTL", self.worker_lock_ttl),
            ("BROKER_VISIBILITY_TIMEOUT", self.broker_visibility_timeout),
        ]
        problems = [
            f"{a} ({va:g}s) must be below {b} ({vb:g}s)"
            for (a, va), (b, vb) in itertools.pairwise(chain)
            if va >= vb
        ]
        if self.worker_heartbeat_interval >= self.worker_lock_ttl:
            problems.append("WORKER_HEARTBEAT_INTERVAL must be below WORKER_LOCK_TTL")
        try:
            self.cutoffs()
        except ValueError:
            problems.append("ENTRY_CUTOFF_LEAD >= LIQUIDATION_LEAD > HARD_CUT_LEAD >= 0 must hold")
        if (self.session_open is None) != (self.session_close is None):
            problems.append("SESSION_OPEN and SESSION_CLOSE must be set together")
        return problems

    def _backend_problems(self) -> list[str]:
        problems = []
        if self.kis_env != "sim" and not (self.kis_app_key and self.kis_app_secret):
            problems.append(f"KIS_ENV={self.kis_env} needs KIS_APP_KEY and KIS_APP_SECRET")
        if bool(self.slack_bot_token) != bool(self.slack_channel):
            problems.append("SLACK_BOT_TOKEN and SLACK_CHANNEL must be set together")
        return problems

    # -- derived values ----------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'stock_manager.db'}"

    @property
    def should_auto_migrate(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.effective_database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> EmbeddedRedis | None:
        """The embedded Valkey server in ``DATA_DIR/redis`` when no ``REDIS_URL`` is set."""
        return None if self.redis_url else EmbeddedRedis.for_data_dir(self.data_dir)

    @property
    def effective_redis_url(self) -> str:
        embedded = self.embedded_redis
        return embedded.url if embedded is not None else str(self.redis_url)

    @property
    def broker_is_embedded(self) -> bool:
        """Neither ``CELERY_BROKER_URL`` nor ``REDIS_URL`` set, or ``CELERY_BROKER_URL`` naming
        the embedded server's own socket (Celery reads that variable itself, so it must
        always hold a URL)."""
        embedded = EmbeddedRedis.for_data_dir(self.data_dir).broker_url
        if self.celery_broker_url:
            return self.celery_broker_url == embedded
        return not self.redis_url

    @property
    def effective_broker_url(self) -> str:
        if self.broker_is_embedded:
            return EmbeddedRedis.for_data_dir(self.data_dir).broker_url
        return str(self.celery_broker_url or self.redis_url)

    @property
    def effective_lock_backend(self) -> Literal["redis", "sql"]:
        return self.lock_backend or "redis"

    @property
    def effective_rate_limit(self) -> float:
        dialect = self.kis_sim_dialect if self.kis_env == "sim" else self.kis_env
        return self.kis_rate_limit or DEFAULT_RATE_LIMITS[dialect]

    @property
    def kis_dialect(self) -> Literal["paper", "live"]:
        """Which tr_id table and limits apply: the simulator speaks one of the two."""
        return self.kis_sim_dialect if self.kis_env == "sim" else self.kis_env

    @property
    def effective_kis_rest_url(self) -> str:
        if self.kis_rest_url:
            return self.kis_rest_url.rstrip("/")
        sim = self.kis_sim_rest_url.rstrip("/")
        return sim if self.kis_env == "sim" else KIS_URLS[self.kis_env][0]

    @property
    def effective_kis_ws_url(self) -> str:
        if self.kis_ws_url:
            return self.kis_ws_url.rstrip("/")
        sim = self.kis_sim_ws_url.rstrip("/")
        return sim if self.kis_env == "sim" else KIS_URLS[self.kis_env][1]

    @property
    def app_key(self) -> SecretStr:
        return self.kis_app_key or SecretStr(SIM_APP_KEY)

    @property
    def app_secret(self) -> SecretStr:
        return self.kis_app_secret or SecretStr(SIM_APP_SECRET)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_channel)

    def cutoffs(self) -> CutoffPolicy:
        return CutoffPolicy(self.entry_cutoff_lead, self.liquidation_lead, self.hard_cut_lead)

    def strategy_params(self) -> dict[str, dict[str, Any]]:
        return {
            "momentum_breakout": {
                "lookback": self.momentum_lookback,
                "volume_factor": self.momentum_volume_factor,
            },
            "bollinger_reversion": {"period": self.bollinger_period, "width": self.bollinger_width},
        }

    def fee_schedule(self) -> FeeSchedule:
        return FeeSchedule(
            self.commission_rate,
            self.sell_tax_rate,
            self.fee_rounding,
            self.etp_commission_rate,
            self.fee_basis,
        )


SECRET_FIELDS = frozenset({"kis_app_key", "kis_app_secret", "slack_bot_token", "flower_basic_auth"})


def _bounded_decimal(value: Decimal) -> bool:
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    significant = len(bytes(value.as_tuple().digits).rstrip(b"\0"))
    return significant <= MAX_DECIMAL_DIGITS and abs(value.adjusted()) < MAX_DECIMAL_DIGITS


def _quoted(field: str, value: Any) -> str:
    """A bad value for a message, unless it might be a secret in the wrong variable (issue
    14): a URL shows its scheme and host, a value longer than ``_SHOWN`` characters only its
    length."""
    text = value if isinstance(value, str) else repr(value)
    if field.endswith("_url"):
        scheme, sep, rest = text.partition("://")
        host = rest.split("/", 1)[0].rpartition("@")[2][:_SHOWN]
        return f"'{scheme}://{host}/...'" if sep else f"{len(text)} characters and no scheme"
    if len(text) > _SHOWN:
        return f"{len(text)} characters"
    return repr(text)


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "configuration"
    name = field.upper() if field != "configuration" else field
    message = str(error["msg"]).removeprefix("Value error, ")[:300]
    if field in SECRET_FIELDS or not error["loc"]:
        return f"{name}: {message}"
    return f"{name}: {message} (got {_quoted(field, error.get('input'))})"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, or raise :class:`ConfigError` listing each problem.

    Raises nothing else: an unreadable ``.env`` (not UTF-8, no permission) is a ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        details = "\n  ".join(_describe(dict(e)) for e in exc.errors())
        raise ConfigError(f"invalid configuration:\n  {details}") from None
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"invalid configuration:\n  .env or the environment could not be read: "
            f"{type(exc).__name__}: {mask_url(str(exc))[:200]}"
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()


def masked_settings(settings: Settings) -> dict[str, str]:
    """Every effective setting as text, secrets replaced and the account number partly hidden."""
    shown: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            shown[name] = "******** (set)" if value else "(not set)"
        elif name == "kis_account_no":
            shown[name] = value[:2] + "******" + value[8:]
        elif name.endswith("_url") and value:
            shown[name] = mask_url(str(value))
        elif isinstance(value, Enum):
            shown[name] = str(value.value)
        else:
            shown[name] = "" if value is None else str(value)
    shown["effective_database_url"] = mask_url(settings.effective_database_url)
    shown["effective_broker_url"] = mask_url(settings.effective_broker_url)
    shown["effective_lock_backend"] = settings.effective_lock_backend
    shown["effective_rate_limit"] = f"{settings.effective_rate_limit:g}/s"
    shown["effective_kis_rest_url"] = settings.effective_kis_rest_url
    shown["effective_kis_ws_url"] = settings.effective_kis_ws_url
    shown["kis_live_hosts"] = _live_hosts_text(settings)
    return shown


def _live_hosts_text(settings: Settings) -> str:
    """Which KIS URLs reach a live host, and whether orders to it are armed."""
    live = live_urls(settings.effective_kis_rest_url, settings.effective_kis_ws_url)
    if not live and settings.kis_env != "live":
        return "none (loopback or paper hosts only)"
    armed = "armed" if settings.trading_armed else "orders refused: TRADING_ARMED is not true"
    where = ", ".join(mask_url(url) for url in live) or "KIS_ENV=live"
    return f"LIVE: {where} ({armed})"


def mask_url(url: str) -> str:
    """Hide the password in ``scheme://user:password@host``."""
    return re.sub(r"(//[^:/@]*:)[^@/]+@", r"\1****@", url)
