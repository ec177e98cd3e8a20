"""Small fakes of the clock, calendar, leases, rate limiter and notifier ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from stock_manager.domain.clock import KST
from stock_manager.domain.session import CutoffPolicy, TradingSession, custom_session
from stock_manager.ports import Lane, Lease, Notice


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 20, 10, 0, tzinfo=KST)
        self.elapsed = 0.0

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.elapsed

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        self.elapsed += seconds


class FakeCalendar:
    """Every day trades 09:00-15:20 KST unless listed as closed."""

    def __init__(
        self,
        closed: set[date] | None = None,
        cutoffs: CutoffPolicy | None = None,
        opens: tuple[int, int] = (9, 0),
        closes: tuple[int, int] = (15, 20),
    ) -> None:
        self.closed = closed or set()
        self.cutoffs = cutoffs or CutoffPolicy()
        self.opens, self.closes = opens, closes

    def is_trading_day(self, day: date) -> bool:
        return day not in self.closed

    def session(self, day: date) -> TradingSession | None:
        if day in self.closed:
            return None
        start = datetime(day.year, day.month, day.day, *self.opens, tzinfo=KST)
        end = datetime(day.year, day.month, day.day, *self.closes, tzinfo=KST)
        return custom_session(start, end, self.cutoffs)


class FakeLeaseLock:
    """In-memory leases on the fake clock; fences only go up."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.leases: dict[str, Lease] = {}
        self.fences: dict[str, int] = {}
        self.refuse: set[str] = set()  # symbols whose lease someone else holds

    def acquire(self, symbol: str, owner: str, ttl: float) -> Lease | None:
        current = self.leases.get(symbol)
        if symbol in self.refuse or (current and current.expires_at > self.clock.now()):
            return None
        self.fences[symbol] = self.fences.get(symbol, 0) + 1
        lease = Lease(symbol, owner, self.fences[symbol], self.clock.now() + timedelta(seconds=ttl))
        self.leases[symbol] = lease
        return lease

    def renew(self, lease: Lease, ttl: float) -> Lease | None:
        if self.leases.get(lease.symbol) != lease or lease.expires_at <= self.clock.now():
            return None
        renewed = Lease(
            lease.symbol, lease.owner, lease.fence, self.clock.now() + timedelta(seconds=ttl)
        )
        self.leases[lease.symbol] = renewed
        return renewed

    def release(self, lease: Lease) -> bool:
        current = self.leases.get(lease.symbol)
        if current is None or (current.owner, current.fence) != (lease.owner, lease.fence):
            return False
        del self.leases[lease.symbol]
        return True

    def held(self) -> list[Lease]:
        return [x for x in self.leases.values() if x.expires_at > self.clock.now()]

    def sweep_expired(self) -> list[Lease]:
        expired = [x for x in self.leases.values() if x.expires_at <= self.clock.now()]
        for lease in expired:
            del self.leases[lease.symbol]
        return expired


@dataclass
class FakeRateLimiter:
    lanes: list[Lane] = field(default_factory=list)

    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        self.lanes.append(lane)


@dataclass
class FakeNotifier:
    sent: list[Notice] = field(default_factory=list)

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)

    def kinds(self) -> list[str]:
        return [n.kind for n in self.sent]
