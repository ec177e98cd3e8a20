"""An in-memory unit of work with the same compare-and-set rules as the SQL one.

``with uow:`` works on a copy of the committed state; ``commit()`` publishes it; leaving
the block without committing throws the copy away.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Self

from stock_manager.domain.errors import DuplicateOrder, StaleWrite
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import Fill, Order, OrderStatus
from stock_manager.domain.pnl import PositionAdjustment
from stock_manager.domain.records import (
    DailySettlement,
    DailySummary,
    RecoveryEntry,
    TaskRun,
    Transition,
    WorkerProcess,
)
from stock_manager.domain.trade import SymbolState, SymbolTrade


@dataclass
class Store:
    symbols: dict[str, SymbolTrade] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fills: dict[str, tuple[int, Fill]] = field(default_factory=dict)
    adjustments: dict[str, PositionAdjustment] = field(default_factory=dict)
    market: dict[date, MarketState] = field(default_factory=dict)
    market_reasons: dict[date, str] = field(default_factory=dict)
    audit: list[Transition] = field(default_factory=list)
    recovery: list[RecoveryEntry] = field(default_factory=list)
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    summaries: dict[date, DailySummary] = field(default_factory=dict)
    settlements: dict[date, DailySettlement] = field(default_factory=dict)
    task_runs: dict[str, TaskRun] = field(default_factory=dict)
    opening_cash: dict[date, int] = field(default_factory=dict)
    instruments: dict[str, tuple[Instrument, date]] = field(default_factory=dict)
    locks: list[date] = field(default_factory=list)
    next_order_id: int = 1


class FakeSymbols:
    def __init__(self, store: Store) -> None:
        self.s = store

    def get(self, symbol: str) -> SymbolTrade | None:
        return self.s.symbols.get(symbol)

    def find(self, states: Sequence[SymbolState] | None = None) -> list[SymbolTrade]:
        rows = sorted(self.s.symbols.values(), key=lambda t: t.symbol)
        return [t for t in rows if states is None or t.state in states]

    def save(self, before: SymbolTrade, after: SymbolTrade) -> SymbolTrade:
        current = self.s.symbols.get(before.symbol)
        if before.version == 0:
            if current is not None:
                raise StaleWrite(f"symbol {before.symbol} was created concurrently")
        elif (
            current is None
            or current.version != before.version
            or current.state is not before.state
            or current.fence > after.fence
        ):
            raise StaleWrite(f"symbol {before.symbol}: stale write")
        saved = stored = replace(after, version=before.version + 1)
        if current is not None:  # keep a mark written meanwhile, as the SQL repository does
            if after.last_price == before.last_price:
                stored = replace(stored, last_price=current.last_price)
            if after.high_water >= before.high_water:
                stored = replace(stored, high_water=max(current.high_water, after.high_water))
        self.s.symbols[after.symbol] = stored
        return saved

    def mark_prices(self, prices: Mapping[str, int]) -> int:
        marked = 0
        for symbol, price in prices.items():
            trade = self.s.symbols.get(symbol)
            if trade is None or trade.quantity <= 0:
                continue
            if trade.last_price != price or trade.high_water < price:
                high = max(trade.high_water, price)
                self.s.symbols[symbol] = replace(trade, last_price=price, high_water=high)
                marked += 1
        return marked

    def mark_high(self, symbol: str, trade_seq: int, price: int, high: int) -> bool:
        trade = self.s.symbols.get(symbol)
        if trade is None or trade.quantity <= 0 or trade.trade_seq != trade_seq:
            return False
        if trade.last_price == price and trade.high_water >= high:
            return False
        peak = max(trade.high_water, high)
        self.s.symbols[symbol] = replace(trade, last_price=price, high_water=peak)
        return True


class FakeOrders:
    def __init__(self, store: Store) -> None:
        self.s = store

    def add(self, order: Order) -> Order:
        if any(o.idempotency_key == order.idempotency_key for o in self.s.orders.values()):
            raise DuplicateOrder(order.idempotency_key)
        stored = replace(order, id=self.s.next_order_id)
        self.s.orders[stored.id or 0] = stored
        self.s.next_order_id += 1
        return stored

    def get(self, order_id: int) -> Order | None:
        return self.s.orders.get(order_id)

    def by_key(self, idempotency_key: str) -> Order | None:
        return next(
            (o for o in self.s.orders.values() if o.idempotency_key == idempotency_key), None
        )

    def by_broker_no(self, day: date, broker_order_no: str) -> Order | None:
        return next(
            (
                o
                for o in self.s.orders.values()
                if o.trading_day == day and o.broker_order_no == broker_order_no
            ),
            None,
        )

    def find(
        self,
        day: date | None = None,
        statuses: Sequence[OrderStatus] | None = None,
        symbol: str | None = None,
    ) -> list[Order]:
        return [
            o
            for _, o in sorted(self.s.orders.items())
            if (day is None or o.trading_day == day)
            and (statuses is None or o.status in statuses)
            and (symbol is None or o.symbol == symbol)
        ]

    def save(self, before: Order, after: Order) -> Order:
        current = self.s.orders.get(before.id or 0)
        if (
            current is None
            or current.status is not before.status
            or current.filled_quantity != before.filled_quantity
            or current.fence > after.fence
        ):
            raise StaleWrite(f"order {before.idempotency_key}: stale write")
        self.s.orders[before.id or 0] = after
        return after


class FakeFills:
    def __init__(self, store: Store) -> None:
        self.s = store

    def add(self, order_id: int, fill: Fill) -> bool:
        if fill.broker_fill_id in self.s.fills:
            return False
        self.s.fills[fill.broker_fill_id] = (order_id, fill)
        return True

    def for_order(self, order_id: int) -> list[Fill]:
        return [f for oid, f in self.s.fills.values() if oid == order_id]

    def for_day(self, day: date) -> list[Fill]:
        return sorted(
            (f for oid, f in self.s.fills.values() if self.s.orders[oid].trading_day == day),
            key=lambda f: f.filled_at,
        )


class FakeAdjustments:
    def __init__(self, store: Store) -> None:
        self.s = store

    def add(self, key: str, adjustment: PositionAdjustment) -> bool:
        if key in self.s.adjustments:
            return False
        self.s.adjustments[key] = adjustment
        return True

    def for_day(self, day: date) -> list[PositionAdjustment]:
        return sorted(
            (a for a in self.s.adjustments.values() if a.at.date() == day), key=lambda a: a.at
        )


class FakeMarket:
    def __init__(self, store: Store) -> None:
        self.s = store

    def get(self, day: date) -> MarketState:
        return self.s.market.get(day, MarketState.OFFLINE)

    def lock(self, day: date) -> MarketState:
        self.s.locks.append(day)  # one thread: nothing to wait for, but the test can see it
        return self.get(day)

    def save(self, day: date, before: MarketState, after: MarketState, reason: str) -> None:
        if self.get(day) is not before:
            raise StaleWrite(f"market {day}: expected {before.value}")
        self.s.market[day] = after
        self.s.market_reasons[day] = reason[:200]

    def reason(self, day: date) -> str:
        return self.s.market_reasons.get(day, "")

    def set_opening_cash(self, day: date, cash: int) -> None:
        if day in self.s.market:
            self.s.opening_cash[day] = cash

    def opening_cash(self, day: date) -> int | None:
        return self.s.opening_cash.get(day)


class FakeTaskRuns:
    def __init__(self, store: Store) -> None:
        self.s = store

    def succeeded(self, name: str, at: datetime, value: int | None = None) -> None:
        run = self.s.task_runs.get(name, TaskRun(name))
        self.s.task_runs[name] = replace(
            run, last_success_at=at, last_value=value, successes=run.successes + 1
        )

    def failed(self, name: str, at: datetime) -> None:
        run = self.s.task_runs.get(name, TaskRun(name))
        self.s.task_runs[name] = replace(run, last_failure_at=at, failures=run.failures + 1)

    def get(self, name: str) -> TaskRun | None:
        return self.s.task_runs.get(name)

    def all(self) -> list[TaskRun]:
        return sorted(self.s.task_runs.values(), key=lambda r: r.name)


class FakeAudit:
    def __init__(self, store: Store) -> None:
        self.s = store

    def record(self, transition: Transition) -> None:
        self.s.audit.append(transition)

    def recent(self, limit: int = 50) -> list[Transition]:
        return list(reversed(self.s.audit))[:limit]


class FakeRecovery:
    def __init__(self, store: Store) -> None:
        self.s = store

    def record(self, entry: RecoveryEntry) -> None:
        self.s.recovery.append(entry)

    def recent(self, limit: int = 50) -> list[RecoveryEntry]:
        return list(reversed(self.s.recovery))[:limit]


class FakeWorkers:
    def __init__(self, store: Store) -> None:
        self.s = store

    def heartbeat(self, worker: WorkerProcess) -> None:
        self.s.workers[worker.worker_id] = replace(worker, stopped_at=None)

    def stopped(self, worker_id: str, at: datetime) -> None:
        if worker_id in self.s.workers:
            self.s.workers[worker_id] = replace(self.s.workers[worker_id], stopped_at=at)

    def all(self) -> list[WorkerProcess]:
        return sorted(self.s.workers.values(), key=lambda w: w.worker_id)

    def stale(self, heartbeat_before: datetime) -> list[WorkerProcess]:
        return [
            w for w in self.all() if w.stopped_at is None and w.last_heartbeat_at < heartbeat_before
        ]


class FakeReports:
    def __init__(self, store: Store) -> None:
        self.s = store

    def save_summary(self, summary: DailySummary) -> None:
        self.s.summaries[summary.trading_day] = summary

    def summary(self, day: date) -> DailySummary | None:
        return self.s.summaries.get(day)

    def save_settlement(self, settlement: DailySettlement) -> None:
        self.s.settlements[settlement.trading_day] = settlement

    def settlement(self, day: date) -> DailySettlement | None:
        return self.s.settlements.get(day)


class FakeInstruments:
    def __init__(self, store: Store) -> None:
        self.s = store

    def get(self, symbol: str) -> tuple[Instrument, date] | None:
        return self.s.instruments.get(symbol)

    def save(self, instrument: Instrument, day: date) -> None:
        self.s.instruments[instrument.symbol] = (instrument, day)


class FakeUnitOfWork:
    """Implements ``stock_manager.ports.UnitOfWork`` in memory; ``committed`` is the truth."""

    def __init__(self) -> None:
        self.committed = Store()
        self.commits = 0
        self._work: Store | None = None

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self.committed)
        self.symbols = FakeSymbols(self._work)
        self.orders = FakeOrders(self._work)
        self.fills = FakeFills(self._work)
        self.adjustments = FakeAdjustments(self._work)
        self.market = FakeMarket(self._work)
        self.audit = FakeAudit(self._work)
        self.recovery = FakeRecovery(self._work)
        self.workers = FakeWorkers(self._work)
        self.reports = FakeReports(self._work)
        self.task_runs = FakeTaskRuns(self._work)
        self.instruments = FakeInstruments(self._work)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None

    def commit(self) -> None:
        if self._work is None:
            raise RuntimeError("commit outside the unit of work")
        self.committed = copy.deepcopy(self._work)
        self.commits += 1

    def rollback(self) -> None:
        if self._work is not None:
            self.__enter__()
