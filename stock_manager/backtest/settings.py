"""A backtest's configuration: live's settings (``Settings``, with ``--set`` overrides) plus
the backtest's own keys, all checked before anything runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stock_manager.adapters.calendar import KrxCalendar
from stock_manager.backtest.engine import BacktestConfig
from stock_manager.backtest.fills import FillModel, FillModelError
from stock_manager.bootstrap import trading_policy
from stock_manager.config import ConfigError, Settings, load_settings
from stock_manager.domain.orders import LIVE_ORDER_TYPES, PAPER_ORDER_TYPES
from stock_manager.domain.session import TradingSession, regular_session

# The backtest's own keys: name -> (type, default). Everything else is a live setting.
OWN: dict[str, tuple[type, Any]] = {
    "INITIAL_CASH": (int, 100_000_000),
    "VIEW_CANDLES": (int, 30),
    "SCAN_EVERY": (int, 1),
    "FILL_SLIPPAGE_TICKS": (int, 1),
    "FILL_VOLUME_SHARE": (Decimal, Decimal("0.1")),
    "FILL_LIMIT_TTL_CANDLES": (int, 1),
    "FILL_SPREAD_TICKS": (int, 1),
}


def parse_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict with upper-case keys; ``ConfigError`` if malformed."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set/--grid: expected KEY=VALUE, got {pair!r}")
        parsed[key.strip().upper()] = value.strip()
    return parsed


def _own(values: Mapping[str, str]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    for key, (kind, default) in OWN.items():
        raw = values.get(key)
        try:
            chosen[key] = default if raw is None else kind(raw)
        except (ValueError, InvalidOperation):
            raise ConfigError(f"{key}: expected {kind.__name__}, got {raw!r}") from None
    return chosen


def build(values: Mapping[str, str]) -> tuple[Settings, BacktestConfig]:
    """Live settings with ``values`` as overrides, and the backtest's config from both."""
    live = {k.lower(): v for k, v in values.items() if k not in OWN}
    unknown = [k for k in live if k not in Settings.model_fields]
    if unknown:
        known = ", ".join(sorted(OWN))
        raise ConfigError(f"unknown setting {', '.join(sorted(unknown)).upper()} (ours: {known})")
    settings = load_settings(**live)
    own = _own(values)
    try:
        fills = FillModel(
            own["FILL_SLIPPAGE_TICKS"],
            own["FILL_VOLUME_SHARE"],
            own["FILL_LIMIT_TTL_CANDLES"],
            own["FILL_SPREAD_TICKS"],
        )
    except FillModelError as exc:
        raise ConfigError(f"fill model: {exc}") from None
    if own["INITIAL_CASH"] <= 0 or own["VIEW_CANDLES"] < 1 or own["SCAN_EVERY"] < 1:
        raise ConfigError("INITIAL_CASH, VIEW_CANDLES and SCAN_EVERY must be positive")
    config = BacktestConfig(
        trading=trading_policy(settings),
        fees=settings.fee_schedule(),
        fills=fills,
        initial_cash=own["INITIAL_CASH"],
        view_candles=own["VIEW_CANDLES"],
        scan_every=own["SCAN_EVERY"],
        order_types=PAPER_ORDER_TYPES if settings.kis_dialect == "paper" else LIVE_ORDER_TYPES,
    )
    return settings, config


def described(values: Mapping[str, str], config: BacktestConfig) -> dict[str, Any]:
    """What the run used, for its JSON summary: overrides, fill model and policies."""
    return {
        "overrides": dict(sorted(values.items())),
        "strategies": [repr(s) for s in config.trading.strategies],
        "exits": repr(config.trading.exits),
        "risk": repr(config.trading.risk),
        "fees": repr(config.fees),
        "fill_model": repr(config.fills),
        "fill_assumptions": config.fills.describe(),
        "initial_cash": config.initial_cash,
        "view_candles": config.view_candles,
        "scan_every": config.scan_every,
    }


class Sessions:
    """Each day's KRX session by the live calendar's table (first day of the year, CSAT),
    a regular one for a day the table calls closed (generated data)."""

    def __init__(self, settings: Settings) -> None:
        self._cutoffs = settings.cutoffs()
        self._calendar = KrxCalendar(cutoffs=self._cutoffs)

    def __call__(self, day: date) -> TradingSession:
        return self._calendar.session(day) or regular_session(day, self._cutoffs)
