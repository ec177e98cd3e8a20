"""What ``config check`` must catch before a process starts (issue 14): names that are in no
registry, times out of order, malformed formats, ranges that cannot work together.

Each rule returns problems as text naming the setting; none quotes a secret (a strategy
name is shown only when it looks like one). :func:`production_problems` runs them all when
settings load, so a worker, beat or the CLI refuses a configuration that would fail later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stock_manager.config import Settings

BEAT_MAX_LOOP_INTERVAL = 5.0  # seconds between beat's ticks at most (celery_config.py)
MIN_INTERVAL = 1.0  # beat cannot send more precisely; less floods the broker
MAX_DEAD_MAN = 900.0  # a switch that waits longer than 15 minutes protects nothing
REGULAR_OPEN, REGULAR_CLOSE, REGULAR_AUCTION_END = time(9), time(15, 20), time(15, 30)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")

Rule = Callable[["Settings"], list[str]]


def production_problems(s: Settings) -> list[str]:
    rules: tuple[Rule, ...] = (
        _strategies,
        _scan_filters,
        _order_types,
        _schedule,
        _session,
        _flower_auth,
        _urls,
        _intervals,
        _limits,
    )
    return [problem for rule in rules for problem in rule(s)]


def _named(names: list[str]) -> str:
    shown = [repr(n) if _NAME.fullmatch(n) else f"a name of {len(n)} characters" for n in names]
    return ", ".join(shown)


def _strategies(s: Settings) -> list[str]:
    from stock_manager.strategies.registry import REGISTRY

    known = ", ".join(sorted(REGISTRY))
    if not s.strategies:
        return [f"STRATEGIES: name at least one strategy (known: {known})"]
    unknown = [n for n in s.strategies if n not in REGISTRY]
    if unknown:
        return [f"STRATEGIES: unknown {_named(unknown)} (known: {known})"]
    return []


def _scan_filters(s: Settings) -> list[str]:
    if not s.scan_filters:  # the usual case: no need to load the services to know
        return []
    from stock_manager.services.scan import FILTERS

    unknown = [n for n in s.scan_filters if n not in FILTERS]
    if unknown:
        known = ", ".join(sorted(FILTERS)) or "none registered"
        return [f"SCAN_FILTERS: unknown {_named(unknown)} (known: {known})"]
    return []


def _order_types(s: Settings) -> list[str]:
    from stock_manager.domain.orders import LIVE_ORDER_TYPES, PAPER_ORDER_TYPES, OrderType

    allowed = PAPER_ORDER_TYPES if s.kis_dialect == "paper" else LIVE_ORDER_TYPES
    # Exits and the liquidation resend carry no price (services/prices.py, liquidation.py).
    usable = sorted(t.name for t in allowed if not t.has_price)
    problems = []
    for setting, name in (
        ("EXIT_ORDER_TYPE", s.exit_order_type),
        ("LIQUIDATION_ESCALATION_ORDER_TYPE", s.liquidation_escalation_order_type),
    ):
        if name not in usable:
            what = "not an order type" if name not in OrderType.__members__ else "not usable"
            problems.append(
                f"{setting}: {_named([name])} is {what} here ({s.kis_dialect} dialect, "
                f"no price); use one of {', '.join(usable)}"
            )
    return problems


def _at(clock: time, minus: timedelta = timedelta()) -> time:
    return (datetime.combine(date(2000, 1, 3), clock) - minus).time()


def _schedule(s: Settings) -> list[str]:
    """Beat's crontab times against a regular KRX day (krx.md §1); a custom session
    (SESSION_OPEN/CLOSE) is driven by the frequent tasks' guards, not by these times."""
    if s.session_open is not None:
        return []
    cutoff = _at(REGULAR_CLOSE, s.entry_cutoff_lead)
    hard = _at(REGULAR_CLOSE, s.hard_cut_lead)
    problems = []
    if not s.market_open_time < REGULAR_OPEN:
        problems.append(f"MARKET_OPEN_TIME ({s.market_open_time:%H:%M}) must be before 09:00")
    if not cutoff <= s.liquidation_time < hard:
        problems.append(
            f"LIQUIDATION_TIME ({s.liquidation_time:%H:%M}) must be at or after the entry "
            f"cutoff ({cutoff:%H:%M}) and before the hard cut ({hard:%H:%M:%S}) of a 15:20 close"
        )
    for name, at in (
        ("MARKET_CLOSE_TIME", s.market_close_time),
        ("DAILY_SUMMARY_TIME", s.daily_summary_time),
    ):
        if at < REGULAR_AUCTION_END:
            problems.append(f"{name} ({at:%H:%M}) must be at or after the 15:30 closing auction")
    return problems


def _session(s: Settings) -> list[str]:
    if s.session_open is None or s.session_close is None:
        return []
    opens = datetime.combine(date(2000, 1, 3), s.session_open)
    closes = datetime.combine(date(2000, 1, 3), s.session_close)
    if closes <= opens:
        return ["SESSION_CLOSE must be after SESSION_OPEN"]
    # Leads left at their defaults are fitted to a short session (CutoffPolicy.fitted);
    # leads set by hand must fit as they are.
    explicit = s.model_fields_set & {"entry_cutoff_lead", "liquidation_lead", "hard_cut_lead"}
    if explicit and not s.cutoffs().fits(closes - opens):
        return [
            f"ENTRY_CUTOFF_LEAD ({s.entry_cutoff_lead}) must be shorter than the session "
            f"SESSION_OPEN-SESSION_CLOSE ({closes - opens}): entry cutoff < liquidation < "
            "hard cut < close must all fall inside it (or leave the three leads unset)"
        ]
    return []


def _flower_auth(s: Settings) -> list[str]:
    if s.flower_basic_auth is None:
        return []
    pairs = s.flower_basic_auth.get_secret_value().split(",")
    for pair in pairs:
        user, sep, password = pair.partition(":")
        if not (sep and user and password) or any(c.isspace() for c in pair):
            return [
                "FLOWER_BASIC_AUTH: must be user:password (several: u1:p1,u2:p2), "
                "each with a user and a password and no spaces"
            ]
    return []


def _urls(s: Settings) -> list[str]:
    problems = []
    if s.database_url is not None:
        problems += _database_url(s.database_url)
    if s.redis_url is not None and _scheme(s.redis_url) not in {"redis", "rediss", "unix"}:
        problems.append("REDIS_URL: must be redis://host:6379/0, rediss://… or unix:///path")
    broker = s.celery_broker_url
    if broker and broker != "embedded" and not _known_broker(broker):
        problems.append(
            "CELERY_BROKER_URL: not a Celery broker URL (redis://…, amqp://…, or embedded)"
        )
    for name, url, schemes in (
        ("KIS_REST_URL", s.kis_rest_url, {"http", "https"}),
        ("KIS_WS_URL", s.kis_ws_url, {"ws", "wss"}),
        ("KIS_SIM_REST_URL", s.kis_sim_rest_url, {"http", "https"}),
        ("KIS_SIM_WS_URL", s.kis_sim_ws_url, {"ws", "wss"}),
    ):
        if url and _scheme(url) not in schemes:
            problems.append(f"{name}: must start with {' or '.join(sorted(schemes))}://")
    return problems


def _scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep else ""


def _database_url(url: str) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    example = "postgresql://user:password@host:5432/stock or sqlite:////abs/path/stock.db"
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return [f"DATABASE_URL: not a database URL; use {example}"]
    if backend not in {"postgresql", "sqlite"}:
        return [f"DATABASE_URL: only PostgreSQL and SQLite are supported; use {example}"]
    return []


def _known_broker(url: str) -> bool:
    from kombu.transport import TRANSPORT_ALIASES

    return _scheme(url).split("+")[0] in TRANSPORT_ALIASES


def _intervals(s: Settings) -> list[str]:
    problems = [
        f"{name} ({value:g}s) must be at least {MIN_INTERVAL:g}s"
        for name, value in (
            ("PRICE_CHECK_INTERVAL", s.price_check_interval),
            ("ORDER_SYNC_INTERVAL", s.order_sync_interval),
            ("SCAN_INTERVAL", s.scan_interval),
            ("LOCK_SWEEP_INTERVAL", s.lock_sweep_interval),
            ("RECONCILE_INTERVAL", s.reconcile_interval),
        )
        if value < MIN_INTERVAL
    ]
    if s.beat_lock_timeout < 2 * BEAT_MAX_LOOP_INTERVAL:
        problems.append(
            f"BEAT_LOCK_TIMEOUT ({s.beat_lock_timeout:g}s) must be at least twice beat's "
            f"{BEAT_MAX_LOOP_INTERVAL:g}s loop, or the leader loses its lock between ticks"
        )
    if s.beat_lock_timeout >= s.dead_man_seconds:
        problems.append(
            f"BEAT_LOCK_TIMEOUT ({s.beat_lock_timeout:g}s) must be below DEAD_MAN_SECONDS "
            f"({s.dead_man_seconds:g}s), or a beat failover halts entries"
        )
    if not 3 * s.price_check_interval <= s.dead_man_seconds <= MAX_DEAD_MAN:
        problems.append(
            f"DEAD_MAN_SECONDS ({s.dead_man_seconds:g}s) must be between three price checks "
            f"({3 * s.price_check_interval:g}s) and {MAX_DEAD_MAN:g}s"
        )
    return problems


def _limits(s: Settings) -> list[str]:
    problems = []
    if s.max_notional_per_symbol > s.max_total_notional:
        problems.append("MAX_NOTIONAL_PER_SYMBOL must not exceed MAX_TOTAL_NOTIONAL")
    if s.kis_dialect == "paper" and not s.universe:
        problems.append(
            "UNIVERSE: required on the paper dialect (KIS paper has no volume ranking, so the "
            "scan would find nothing): name the symbols to scan, e.g. 005930,000660"
        )
    return problems
