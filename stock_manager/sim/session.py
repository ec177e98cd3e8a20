"""The simulated trading day: when continuous trading runs and when the closing call ends.

Phases: ``pre`` (orders refused, quotes readable), ``continuous`` (trades and matching),
``auction`` (the closing call: orders collected, nothing matches until the uncross) and
``closed`` (after the uncross; unfilled orders were cancelled).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import Enum
from typing import Any

from stock_manager.domain.clock import KST
from stock_manager.domain.session import SessionKind, TradingSession
from stock_manager.sim.config import SimConfig

REGULAR_OPEN = time(9, 0)
REGULAR_CLOSE = time(15, 20)
REGULAR_AUCTION = timedelta(minutes=10)
COMPRESSED_AUCTION = timedelta(seconds=10)


class Phase(Enum):
    PRE = "pre"
    CONTINUOUS = "continuous"
    AUCTION = "auction"
    CLOSED = "closed"


def phase_at(session: TradingSession, moment: datetime) -> Phase:
    if moment < session.opens_at:
        return Phase.PRE
    if moment < session.continuous_ends_at:
        return Phase.CONTINUOUS
    if moment < session.auction_ends_at:
        return Phase.AUCTION
    return Phase.CLOSED


def _at(moment: datetime, clock_time: time) -> datetime:
    return datetime.combine(moment.astimezone(KST).date(), clock_time, tzinfo=KST)


def compressed_session(
    now: datetime, minutes: float, auction_seconds: float | None, delay: float = 0.0
) -> TradingSession:
    """A session that opens ``delay`` seconds from now and trades for ``minutes``."""
    opens = (now + timedelta(seconds=delay)).astimezone(KST).replace(microsecond=0)
    ends = opens + timedelta(minutes=minutes)
    auction = COMPRESSED_AUCTION if auction_seconds is None else timedelta(seconds=auction_seconds)
    return TradingSession(opens.date(), SessionKind.CUSTOM, opens, ends, ends + auction)


def explicit_session(
    now: datetime,
    opens: time,
    closes: time,
    auction_end: time | None,
    auction_seconds: float | None,
) -> TradingSession:
    """Today's session at explicit wall-clock times (KST)."""
    open_at, close_at = _at(now, opens), _at(now, closes)
    if auction_end is not None:
        auction_at = _at(now, auction_end)
    elif auction_seconds is not None:
        auction_at = close_at + timedelta(seconds=auction_seconds)
    else:
        auction_at = close_at + REGULAR_AUCTION
    return TradingSession(open_at.date(), SessionKind.CUSTOM, open_at, close_at, auction_at)


def build_session(config: SimConfig, now: datetime) -> TradingSession:
    if config.session_minutes is not None:
        return compressed_session(
            now, config.session_minutes, config.auction_seconds, config.session_delay
        )
    if config.session_open is not None and config.session_close is not None:
        return explicit_session(
            now,
            config.session_open,
            config.session_close,
            config.auction_end,
            config.auction_seconds,
        )
    return explicit_session(
        now, REGULAR_OPEN, REGULAR_CLOSE, config.auction_end, config.auction_seconds
    )


def _parse_moment(now: datetime, value: Any) -> datetime:
    text = str(value)
    if "T" in text or "-" in text:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=KST)
    return _at(now, time.fromisoformat(text))


def session_from_json(now: datetime, data: dict[str, Any]) -> TradingSession:
    """``POST /_sim/session``: ``{"minutes", "auction_seconds"}`` or explicit moments."""
    auction_seconds = data.get("auction_seconds")
    seconds = None if auction_seconds is None else float(auction_seconds)
    if "minutes" in data:
        return compressed_session(now, float(data["minutes"]), seconds)
    opens = _parse_moment(now, data["opens_at"])
    closes = _parse_moment(now, data["continuous_ends_at"])
    if "auction_ends_at" in data:
        auction = _parse_moment(now, data["auction_ends_at"])
    else:
        auction = closes + (REGULAR_AUCTION if seconds is None else timedelta(seconds=seconds))
    return TradingSession(opens.date(), SessionKind.CUSTOM, opens, closes, auction)


def session_json(session: TradingSession, moment: datetime) -> dict[str, str]:
    return {
        "day": session.day.isoformat(),
        "opens_at": session.opens_at.isoformat(),
        "continuous_ends_at": session.continuous_ends_at.isoformat(),
        "auction_ends_at": session.auction_ends_at.isoformat(),
        "phase": phase_at(session, moment).value,
    }
