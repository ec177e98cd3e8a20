"""The ports: what services need from the outside world, as small protocols.

``adapters/`` implement them; ``tests/fakes.py`` has a hand-written fake of each. Only
``bootstrap.py``, ``tasks/`` and the CLI pick concrete adapters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from types import TracebackType
from typing import Literal, Protocol, Self

from stock_manager.domain import candles
from stock_manager.domain.broker import (
    AccountBalance,
    BrokerOrder,
    BuyingPower,
    Candle,
    OrderAck,
    OrderBook,
    OrderRequest,
    Quote,
    RankedStock,
)
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import Fill, Order, OrderStatus, Side
from stock_manager.domain.pnl import PositionAdjustment
from stock_manager.domain.records import (
    DailySettlement,
    DailySummary,
    RecoveryEntry,
    TaskRun,
    Transition,
    WorkerProcess,
)
from stock_manager.domain.session import TradingSession
from stock_manager.domain.trade import SymbolState, SymbolTrade


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (and keeps counting through a suspend), for
        measuring how long something has taken."""
        ...


class MarketCalendar(Protocol):
    def is_trading_day(self, day: date) -> bool: ...

    def session(self, day: date) -> TradingSession | None:
        """The day's session with its cut-offs, or ``None`` when KRX is closed."""
        ...


class CandleSource(Protocol):
    """Recorded minute candles, a trading day at a time: what a backtest reads."""

    def trading_days(self) -> Sequence[date]:
        """The days recorded, oldest first."""
        ...

    def minute_candles(self, day: date) -> Mapping[str, Sequence[Candle]]:
        """Each symbol's one-minute candles of ``day``, oldest first."""
        ...

    def price_limits(self, day: date) -> Mapping[str, PriceLimits]:
        """Each symbol's price limits on ``day`` (from its recorded 기준가), where known."""
        ...


class Broker(Protocol):
    """The account at the broker. The broker is the source of truth.

    ``submit`` raises ``OrderOutcomeUnknown`` when the request may have reached the broker
    without a trustworthy reply; it never retries an order by itself.
    """

    def quote(self, symbol: str) -> Quote: ...

    def quotes(self, symbols: Sequence[str]) -> dict[str, Quote]: ...

    def orderbook(self, symbol: str) -> OrderBook: ...

    def minute_candles(self, symbol: str) -> list[Candle]: ...

    def daily_candles(self, symbol: str, start: date, end: date) -> list[Candle]: ...

    def volume_rank(self) -> list[RankedStock] | None:
        """The market's most traded symbols, or ``None`` where the environment lacks it."""
        ...

    def balance(self) -> AccountBalance: ...

    def buying_power(self, symbol: str, price: int) -> BuyingPower: ...

    def submit(self, request: OrderRequest) -> OrderAck: ...

    def cancel(self, broker_order_no: str, branch: str, quantity: int | None = None) -> OrderAck:
        """Cancel ``quantity`` shares of an open order, or all that remain."""
        ...

    def modify(
        self, broker_order_no: str, branch: str, request: OrderRequest, all_remaining: bool = True
    ) -> OrderAck: ...

    def orders(
        self,
        day: date,
        symbol: str | None = None,
        side: Side | None = None,
        order_no: str | None = None,
    ) -> list[BrokerOrder]:
        """The day's orders with their cumulative fills (inquire-daily-ccld), narrowed to one
        symbol, side and order number (ODNO) where given. Complete or
        ``BrokerReadIncomplete``: a row missing from what this returns is proof that the
        broker has no such order — among those asked for."""
        ...

    def is_trading_day(self, day: date) -> bool | None:
        """The broker's own calendar, or ``None`` where the environment lacks it."""
        ...

    def instrument(self, symbol: str) -> Instrument:
        """The symbol's instrument type and market as the broker lists them (KIS
        주식기본조회), raising ``BrokerRejected`` for a code it does not know."""
        ...


@dataclass(frozen=True, slots=True)
class Lease:
    symbol: str
    owner: str
    fence: int
    expires_at: datetime


class LeaseLock(Protocol):
    """A per-symbol lease whose fence only goes up, so a stale holder can be refused."""

    def acquire(self, symbol: str, owner: str, ttl: float) -> Lease | None: ...

    def renew(self, lease: Lease, ttl: float) -> Lease | None:
        """Extend a lease still held by its owner; ``None`` if it was lost."""
        ...

    def release(self, lease: Lease) -> bool: ...

    def held(self) -> list[Lease]:
        """Leases currently held (not expired)."""
        ...

    def sweep_expired(self) -> list[Lease]:
        """Release every expired lease and return what was released."""
        ...


class Lane(IntEnum):
    """Rate-limit priority lanes: a lower number goes first."""

    LIQUIDATION = 0
    EXIT = 1
    CANCEL = 2
    ENTRY = 3
    SYNC = 4
    SCAN = 5


_lane: ContextVar[Lane] = ContextVar("kis_lane", default=Lane.SYNC)


def current_lane() -> Lane:
    """The priority lane of the broker calls made in the current context."""
    return _lane.get()


@contextmanager
def using_lane(lane: Lane) -> Iterator[None]:
    """Run broker calls in ``lane``: ``with using_lane(Lane.LIQUIDATION): broker.submit(...)``."""
    token = _lane.set(lane)
    try:
        yield
    finally:
        _lane.reset(token)


class RateLimiter(Protocol):
    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        """Block until a request may be sent; raise ``BrokerRateLimited`` on timeout."""
        ...


NoticeLevel = Literal["info", "warning", "error", "critical"]


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for people: an alert, an incident follow-up or a report."""

    kind: str  # e.g. "order_unknown", "quarantine", "daily_report", "liquidation_incomplete"
    level: NoticeLevel
    title: str
    text: str = ""
    thread_key: str | None = None  # follow-ups of one incident share a key
    image_path: str | None = None


class Notifier(Protocol):
    def send(self, notice: Notice) -> None:
        """Queue a notice; never blocks trading on delivery."""
        ...


class TaskQueue(Protocol):
    """Follow-up work for a worker, after the current transaction committed (Celery in a
    deployment: ``send_task``). Task names are ``tasks.<module>.<function>``; arguments are
    plain JSON values."""

    def enqueue(self, task: str, args: Sequence[object] = (), countdown: float = 0.0) -> None: ...


class PendingTasks:
    """A ``TaskQueue`` that keeps what it is given, for use cases run outside a worker (the
    CLI, tests): nothing runs unless someone reads ``pending``."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, tuple[object, ...], float]] = []

    def enqueue(self, task: str, args: Sequence[object] = (), countdown: float = 0.0) -> None:
        self.pending.append((task, tuple(args), countdown))


class SymbolRepository(Protocol):
    def get(self, symbol: str) -> SymbolTrade | None: ...

    def find(self, states: Sequence[SymbolState] | None = None) -> list[SymbolTrade]: ...

    def save(self, before: SymbolTrade, after: SymbolTrade) -> SymbolTrade:
        """Write ``after`` only if the row still equals ``before`` and ``after.fence`` is not
        older than the stored fence; return it with its new version or raise ``StaleWrite``.

        A mark written meanwhile by ``mark_prices`` survives: ``last_price`` is written only
        if ``after`` changes it, and ``high_water`` never goes down unless ``after`` lowers
        it on purpose (below ``before``'s)."""
        ...

    def mark_prices(self, prices: Mapping[str, int]) -> int:
        """Record each symbol's latest price (won) as ``last_price`` and raise its
        ``high_water`` to it, in one statement, for the symbols that hold shares
        (``quantity > 0``); the others are left alone. A mark is not a state write: version
        and fence stay, so it needs no lease and disturbs no holder's compare-and-set.
        Returns how many rows changed (a mark equal to the stored one rewrites nothing)."""
        ...

    def mark_high(self, symbol: str, trade_seq: int, price: int, high: int) -> bool:
        """A tick's lease-free mark: ``last_price`` = ``price`` and ``high_water`` raised to
        ``high`` (won), only while the symbol holds shares of round trip ``trade_seq`` (a
        high seen before a new entry must not become the new trade's peak). Like
        :meth:`mark_prices` it moves no version or fence. Whether the row changed."""
        ...


class OrderRepository(Protocol):
    def add(self, order: Order) -> Order:
        """Insert a NEW order; raise ``DuplicateOrder`` if its idempotency key exists."""
        ...

    def get(self, order_id: int) -> Order | None: ...

    def by_key(self, idempotency_key: str) -> Order | None: ...

    def by_broker_no(self, day: date, broker_order_no: str) -> Order | None: ...

    def find(
        self,
        day: date | None = None,
        statuses: Sequence[OrderStatus] | None = None,
        symbol: str | None = None,
    ) -> list[Order]: ...

    def save(self, before: Order, after: Order) -> Order:
        """Fenced, compare-and-set update like ``SymbolRepository.save``."""
        ...


class FillRepository(Protocol):
    def add(self, order_id: int, fill: Fill) -> bool:
        """Record a fill once; ``False`` if this broker fill is already recorded."""
        ...

    def for_order(self, order_id: int) -> list[Fill]: ...

    def for_day(self, day: date) -> list[Fill]: ...


class AdjustmentRepository(Protocol):
    def add(self, key: str, adjustment: PositionAdjustment) -> bool:
        """Record an adjustment once per ``key``; ``False`` if the key was recorded before."""
        ...

    def for_day(self, day: date) -> list[PositionAdjustment]: ...


class InstrumentRepository(Protocol):
    """Each symbol's instrument type, as last read from the broker."""

    def get(self, symbol: str) -> tuple[Instrument, date] | None:
        """The stored instrument and the day it was read, if any."""
        ...

    def save(self, instrument: Instrument, day: date) -> None: ...


class MarketRepository(Protocol):
    def get(self, day: date) -> MarketState: ...

    def lock(self, day: date) -> MarketState:
        """The day's state, read under a lock held until the transaction ends: entries are
        admitted one at a time across the cluster (``services/admission.py``). A day with no
        row is OFFLINE and admits nothing, so it needs no lock."""
        ...

    def save(self, day: date, before: MarketState, after: MarketState, reason: str) -> None:
        """Compare-and-set the day's state; raise ``StaleWrite`` if it moved meanwhile."""
        ...

    def reason(self, day: date) -> str:
        """Why the day's state last changed (``""`` before its first change)."""
        ...

    def set_opening_cash(self, day: date, cash: int) -> None: ...

    def opening_cash(self, day: date) -> int | None: ...


class AuditLog(Protocol):
    def record(self, transition: Transition) -> None: ...

    def recent(self, limit: int = 50) -> list[Transition]: ...


class RecoveryLog(Protocol):
    def record(self, entry: RecoveryEntry) -> None: ...

    def recent(self, limit: int = 50) -> list[RecoveryEntry]: ...


class WorkerRepository(Protocol):
    def heartbeat(self, worker: WorkerProcess) -> None: ...

    def stopped(self, worker_id: str, at: datetime) -> None: ...

    def all(self) -> list[WorkerProcess]: ...

    def stale(self, heartbeat_before: datetime) -> list[WorkerProcess]: ...


class ReportRepository(Protocol):
    def save_summary(self, summary: DailySummary) -> None: ...

    def summary(self, day: date) -> DailySummary | None: ...

    def save_settlement(self, settlement: DailySettlement) -> None: ...

    def settlement(self, day: date) -> DailySettlement | None: ...


class TaskRunRepository(Protocol):
    def succeeded(self, name: str, at: datetime, value: int | None = None) -> None: ...

    def failed(self, name: str, at: datetime) -> None: ...

    def get(self, name: str) -> TaskRun | None: ...

    def all(self) -> list[TaskRun]: ...


class UnitOfWork(Protocol):
    """One transaction per use case: ``with uow:`` rolls back unless ``commit()`` ran."""

    symbols: SymbolRepository
    orders: OrderRepository
    fills: FillRepository
    adjustments: AdjustmentRepository
    market: MarketRepository
    audit: AuditLog
    recovery: RecoveryLog
    workers: WorkerRepository
    reports: ReportRepository
    task_runs: TaskRunRepository
    instruments: InstrumentRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class CandleHistory(Protocol):
    """A broker's past candles (``kis candles``; docs/market-data.md)."""

    def today(self) -> date:
        """Today on the trading calendar: its minute candles are not final yet."""
        ...

    def instrument(self, symbol: str) -> candles.RecordedInstrument | None:
        """Name, market and type of ``symbol``; None where the broker does not say (paper)."""
        ...

    def daily_history(
        self, symbol: str, start: date, end: date
    ) -> tuple[list[Candle], dict[date, int]]:
        """Daily candles from ``start`` to ``end`` (oldest first) and each day's base price."""
        ...

    def minute_history(self, symbol: str, day: date) -> list[Candle]:
        """``day``'s minute candles of the regular session, oldest first.

        Raises ``BrokerError`` (``KISNotSupported`` on paper for past days) when not served."""
        ...


class CandleStore(Protocol):
    """Where recorded candles go, and what is already complete there (for resuming)."""

    def has_instrument(self, symbol: str) -> bool: ...

    def daily_covers(self, symbol: str, start: date, end: date) -> bool: ...

    def trading_days(self, symbol: str, start: date, end: date) -> list[date]:
        """Days with a stored daily candle of ``symbol`` in ``start..end``, oldest first."""
        ...

    def minute_done(self, day: date, symbol: str) -> bool: ...

    def save_instrument(self, instrument: candles.RecordedInstrument) -> None: ...

    def save_daily(
        self, symbol: str, start: date, end: date, candles: list[Candle], bases: dict[date, int]
    ) -> None:
        """Store the candles, then mark ``start..end`` complete for ``symbol``."""
        ...

    def save_minute(self, day: date, symbol: str, candles: list[Candle], final: bool) -> None:
        """Store ``symbol``'s candles of ``day``; mark the pair complete only if ``final``."""
        ...
