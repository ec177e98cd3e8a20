"""Time helpers: the market's zone and a guard against naive datetimes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` unchanged, or raise if it carries no timezone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def kst_date(moment: datetime) -> date:
    """The KRX trading calendar date of an aware moment."""
    return require_aware(moment, "moment").astimezone(KST).date()
