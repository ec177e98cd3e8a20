"""KRX trading sessions of one day and the cut-offs derived from them (krx.md §1).

A regular day trades continuously 09:00-15:20, then the closing call auction runs to 15:30.
The first trading day of the year opens at 10:00; CSAT (수능) day runs 10:00-16:20 with the
closing auction to 16:30. Every cut-off is a lead before the end of continuous trading, so a
shifted session shifts its cut-offs with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from stock_manager.domain.clock import KST, require_aware

CLOSING_AUCTION = timedelta(minutes=10)


class SessionKind(Enum):
    REGULAR = "regular"
    FIRST_DAY = "first_day"
    CSAT = "csat"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class CutoffPolicy:
    """How long before the end of continuous trading each cut-off falls."""

    entry_cutoff_lead: timedelta = timedelta(minutes=20)  # 15:00 on a regular day
    liquidation_lead: timedelta = timedelta(minutes=10)  # 15:10
    hard_cut_lead: timedelta = timedelta(minutes=1)  # 15:19

    def __post_init__(self) -> None:
        if not self.entry_cutoff_lead >= self.liquidation_lead > self.hard_cut_lead >= timedelta():
            raise ValueError(
                "cut-off leads must satisfy entry_cutoff >= liquidation > hard_cut >= 0, got "
                f"{self.entry_cutoff_lead}, {self.liquidation_lead}, {self.hard_cut_lead}"
            )

    def fits(self, span: timedelta) -> bool:
        """Whether every cut-off falls inside a continuous session of ``span``."""
        return self.entry_cutoff_lead < span

    def fitted(self, span: timedelta) -> CutoffPolicy:
        """These leads if they fit a session of ``span``; else leads in proportion to it
        (entries stop at 60 %, liquidation starts at 72 %, the hard cut 5 % but at least 3 s
        before the end): a compressed day needs no cut-off settings of its own (issue 14)."""
        if self.fits(span):
            return self
        hard = min(max(span * 0.05, timedelta(seconds=3)), span * 0.14)
        return CutoffPolicy(span * 0.40, span * 0.28, hard)


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One day's continuous session, its closing auction and its cut-offs."""

    day: date
    kind: SessionKind
    opens_at: datetime
    continuous_ends_at: datetime
    auction_ends_at: datetime
    cutoffs: CutoffPolicy = CutoffPolicy()

    def __post_init__(self) -> None:
        for name in ("opens_at", "continuous_ends_at", "auction_ends_at"):
            require_aware(getattr(self, name), name)
        if not self.opens_at < self.continuous_ends_at <= self.auction_ends_at:
            raise ValueError(f"session times out of order on {self.day}")

    @property
    def entry_cutoff(self) -> datetime:
        return self.continuous_ends_at - self.cutoffs.entry_cutoff_lead

    @property
    def liquidation_starts_at(self) -> datetime:
        return self.continuous_ends_at - self.cutoffs.liquidation_lead

    @property
    def hard_cut(self) -> datetime:
        return self.continuous_ends_at - self.cutoffs.hard_cut_lead

    def is_continuous(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.continuous_ends_at

    def accepts_entries(self, moment: datetime) -> bool:
        return self.opens_at <= moment < min(self.entry_cutoff, self.liquidation_starts_at)

    def must_liquidate(self, moment: datetime) -> bool:
        return moment >= self.liquidation_starts_at

    def with_cutoffs(self, cutoffs: CutoffPolicy) -> TradingSession:
        return TradingSession(
            self.day,
            self.kind,
            self.opens_at,
            self.continuous_ends_at,
            self.auction_ends_at,
            cutoffs,
        )


def _at(day: date, hhmm: time) -> datetime:
    return datetime.combine(day, hhmm, tzinfo=KST)


def regular_session(day: date, cutoffs: CutoffPolicy = CutoffPolicy()) -> TradingSession:
    return TradingSession(
        day,
        SessionKind.REGULAR,
        _at(day, time(9)),
        _at(day, time(15, 20)),
        _at(day, time(15, 30)),
        cutoffs,
    )


def first_day_session(day: date, cutoffs: CutoffPolicy = CutoffPolicy()) -> TradingSession:
    """The year's first trading day opens an hour late; the close is unchanged."""
    return TradingSession(
        day,
        SessionKind.FIRST_DAY,
        _at(day, time(10)),
        _at(day, time(15, 20)),
        _at(day, time(15, 30)),
        cutoffs,
    )


def csat_session(day: date, cutoffs: CutoffPolicy = CutoffPolicy()) -> TradingSession:
    """CSAT day: everything an hour late, 10:00-16:20 continuous, auction to 16:30."""
    return TradingSession(
        day,
        SessionKind.CSAT,
        _at(day, time(10)),
        _at(day, time(16, 20)),
        _at(day, time(16, 30)),
        cutoffs,
    )


def custom_session(
    opens_at: datetime, continuous_ends_at: datetime, cutoffs: CutoffPolicy = CutoffPolicy()
) -> TradingSession:
    """A session with explicit times: the simulator's and the demo's compressed days."""
    opens_at = require_aware(opens_at, "opens_at").astimezone(KST)
    ends = require_aware(continuous_ends_at, "continuous_ends_at").astimezone(KST)
    auction = ends + min(CLOSING_AUCTION, (ends - opens_at) / 10)
    return TradingSession(opens_at.date(), SessionKind.CUSTOM, opens_at, ends, auction, cutoffs)
