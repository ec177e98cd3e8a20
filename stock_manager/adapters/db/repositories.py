"""Repositories: rows in, domain values out; every state write is compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import (
    DailySettlementRow,
    DailySummaryRow,
    FillRow,
    MarketStateRow,
    OrderRow,
    RecoveryLogRow,
    SymbolStateRow,
    TransitionRow,
    WorkerProcessRow,
)
from stock_manager.domain.errors import DuplicateOrder, StaleWrite
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import Fill, Order, OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.records import (
    DailySettlement,
    DailySummary,
    RecoveryEntry,
    RecoveryKind,
    Transition,
    WorkerProcess,
)
from stock_manager.domain.trade import SymbolState, SymbolTrade


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlSymbolRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, symbol: str) -> SymbolTrade | None:
        row = self._s.get(SymbolStateRow, symbol, populate_existing=True)
        return _symbol(row) if row else None

    def find(self, states: Sequence[SymbolState] | None = None) -> list[SymbolTrade]:
        query = select(SymbolStateRow).order_by(SymbolStateRow.symbol)
        if states is not None:
            query = query.where(SymbolStateRow.state.in_([s.value for s in states]))
        return [
            _symbol(row) for row in self._s.scalars(query.execution_options(populate_existing=True))
        ]

    def save(self, before: SymbolTrade, after: SymbolTrade) -> SymbolTrade:
        values = _symbol_values(after)
        if before.version == 0:
            try:
                with self._s.begin_nested():
                    self._s.add(SymbolStateRow(symbol=after.symbol, version=1, **values))
            except IntegrityError:
                raise StaleWrite(f"symbol {after.symbol} was created concurrently") from None
            return _with_version(after, 1)
        result = self._s.execute(
            update(SymbolStateRow)
            .where(
                SymbolStateRow.symbol == before.symbol,
                SymbolStateRow.state == before.state.value,
                SymbolStateRow.version == before.version,
                SymbolStateRow.fence <= after.fence,
            )
            .values(version=before.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(
                f"symbol {before.symbol}: expected {before.state.value} v{before.version} "
                f"with fence <= {after.fence}; the lease was lost or the state moved on"
            )
        return _with_version(after, before.version + 1)


def _with_version(trade: SymbolTrade, version: int) -> SymbolTrade:
    return replace(trade, version=version)


def _symbol_values(t: SymbolTrade) -> dict[str, Any]:
    return {
        "state": t.state.value,
        "quantity": t.quantity,
        "cost": t.cost,
        "average_price": t.average_price,
        "fence": t.fence,
        "trade_seq": t.trade_seq,
        "strategy": t.strategy,
        "entered_at": t.entered_at,
        "high_water": t.high_water,
        "last_price": t.last_price,
        "note": t.note[:200],
        "updated_at": _utcnow(),
    }


def _symbol(row: SymbolStateRow) -> SymbolTrade:
    return SymbolTrade(
        symbol=row.symbol,
        state=SymbolState(row.state),
        quantity=row.quantity,
        cost=row.cost,
        fence=row.fence,
        version=row.version,
        trade_seq=row.trade_seq,
        strategy=row.strategy,
        entered_at=row.entered_at,
        high_water=row.high_water,
        last_price=row.last_price,
        note=row.note,
    )


class SqlOrderRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, order: Order) -> Order:
        """One statement: the idempotency key's uniqueness decides, no savepoint needed."""
        now = _utcnow()
        created = order.created_at or now
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(OrderRow)
            .values(**_order_values(order), version=1, created_at=created, updated_at=now)
            .on_conflict_do_nothing(index_elements=[OrderRow.idempotency_key])
            .returning(OrderRow.id)
        )
        order_id = self._s.scalar(statement)
        if order_id is None:
            raise DuplicateOrder(f"order {order.idempotency_key} already exists")
        return replace(order, id=order_id, created_at=created)

    def get(self, order_id: int) -> Order | None:
        row = self._s.get(OrderRow, order_id, populate_existing=True)
        return _order(row) if row else None

    def by_key(self, idempotency_key: str) -> Order | None:
        row = self._s.scalar(
            select(OrderRow)
            .where(OrderRow.idempotency_key == idempotency_key)
            .execution_options(populate_existing=True)
        )
        return _order(row) if row else None

    def by_broker_no(self, day: date, broker_order_no: str) -> Order | None:
        row = self._s.scalar(
            select(OrderRow)
            .where(OrderRow.trading_day == day, OrderRow.broker_order_no == broker_order_no)
            .execution_options(populate_existing=True)
        )
        return _order(row) if row else None

    def find(
        self,
        day: date | None = None,
        statuses: Sequence[OrderStatus] | None = None,
        symbol: str | None = None,
    ) -> list[Order]:
        query = select(OrderRow).order_by(OrderRow.id)
        if day is not None:
            query = query.where(OrderRow.trading_day == day)
        if statuses is not None:
            query = query.where(OrderRow.status.in_([s.value for s in statuses]))
        if symbol is not None:
            query = query.where(OrderRow.symbol == symbol)
        return [
            _order(row) for row in self._s.scalars(query.execution_options(populate_existing=True))
        ]

    def save(self, before: Order, after: Order) -> Order:
        if before.id is None:
            raise ValueError("cannot update an order that was never added")
        result = self._s.execute(
            update(OrderRow)
            .where(
                OrderRow.id == before.id,
                OrderRow.status == before.status.value,
                OrderRow.filled_quantity == before.filled_quantity,
                OrderRow.fence <= after.fence,
            )
            .values(**_order_values(after), updated_at=_utcnow(), version=OrderRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(
                f"order {before.idempotency_key}: expected {before.status.value} with "
                f"{before.filled_quantity} filled and fence <= {after.fence}"
            )
        return after


def _order_values(o: Order) -> dict[str, Any]:
    return {
        "idempotency_key": o.idempotency_key,
        "trading_day": o.trading_day,
        "symbol": o.symbol,
        "side": o.side.value,
        "order_type": o.order_type.value,
        "purpose": o.purpose.value,
        "quantity": o.quantity,
        "price": o.price,
        "status": o.status.value,
        "broker_order_no": o.broker_order_no,
        "broker_branch": o.broker_branch,
        "filled_quantity": o.filled_quantity,
        "filled_amount": o.filled_amount,
        "fence": o.fence,
    }


def _order(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        idempotency_key=row.idempotency_key,
        trading_day=row.trading_day,
        symbol=row.symbol,
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        purpose=OrderPurpose(row.purpose),
        quantity=row.quantity,
        price=row.price,
        status=OrderStatus(row.status),
        broker_order_no=row.broker_order_no,
        broker_branch=row.broker_branch,
        filled_quantity=row.filled_quantity,
        filled_amount=row.filled_amount,
        fence=row.fence,
        created_at=row.created_at,
    )


class SqlFillRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, order_id: int, fill: Fill) -> bool:
        exists = self._s.scalar(
            select(FillRow.id).where(FillRow.broker_fill_id == fill.broker_fill_id)
        )
        if exists is not None:
            return False
        try:
            with self._s.begin_nested():
                self._s.add(
                    FillRow(
                        order_id=order_id,
                        broker_fill_id=fill.broker_fill_id,
                        symbol=fill.symbol,
                        side=fill.side.value,
                        quantity=fill.quantity,
                        price=fill.price,
                        commission=fill.commission,
                        tax=fill.tax,
                        filled_at=fill.filled_at,
                        recorded_at=_utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def for_order(self, order_id: int) -> list[Fill]:
        query = select(FillRow).where(FillRow.order_id == order_id).order_by(FillRow.id)
        return [_fill(row) for row in self._s.scalars(query)]

    def for_day(self, day: date) -> list[Fill]:
        query = (
            select(FillRow)
            .join(OrderRow, OrderRow.id == FillRow.order_id)
            .where(OrderRow.trading_day == day)
            .order_by(FillRow.filled_at, FillRow.id)
        )
        return [_fill(row) for row in self._s.scalars(query)]


def _fill(row: FillRow) -> Fill:
    return Fill(
        broker_fill_id=row.broker_fill_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        price=row.price,
        filled_at=row.filled_at,
        commission=row.commission,
        tax=row.tax,
    )


class SqlMarketRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, day: date) -> MarketState:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        return MarketState(row.state) if row else MarketState.OFFLINE

    def save(self, day: date, before: MarketState, after: MarketState, reason: str) -> None:
        row = self._s.get(MarketStateRow, day)
        if row is None:
            if before is not MarketState.OFFLINE:
                raise StaleWrite(f"market {day}: expected {before.value}, found no row")
            try:
                with self._s.begin_nested():
                    self._s.add(
                        MarketStateRow(
                            trading_day=day,
                            state=after.value,
                            reason=reason[:200],
                            version=1,
                            updated_at=_utcnow(),
                        )
                    )
            except IntegrityError:
                raise StaleWrite(f"market {day} was created concurrently") from None
            return
        result = self._s.execute(
            update(MarketStateRow)
            .where(MarketStateRow.trading_day == day, MarketStateRow.state == before.value)
            .values(
                state=after.value,
                reason=reason[:200],
                updated_at=_utcnow(),
                version=MarketStateRow.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(f"market {day}: expected {before.value}")

    def set_opening_cash(self, day: date, cash: int) -> None:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        if row is not None:
            row.opening_cash = cash

    def opening_cash(self, day: date) -> int | None:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        return row.opening_cash if row else None


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, t: Transition) -> None:
        self._s.add(
            TransitionRow(
                at=t.at,
                entity=t.entity,
                entity_key=t.key,
                from_state=t.from_state,
                to_state=t.to_state,
                event=t.event,
                fence=t.fence,
                actor=t.actor[:160],
                detail=t.detail,
            )
        )

    def recent(self, limit: int = 50) -> list[Transition]:
        query = select(TransitionRow).order_by(TransitionRow.id.desc()).limit(limit)
        return [
            Transition(
                entity=r.entity,
                key=r.entity_key,
                from_state=r.from_state,
                to_state=r.to_state,
                event=r.event,
                at=r.at,
                fence=r.fence,
                actor=r.actor,
                detail=r.detail,
            )
            for r in self._s.scalars(query)
        ]


class SqlRecoveryLog:
    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, entry: RecoveryEntry) -> None:
        self._s.add(
            RecoveryLogRow(
                at=entry.at,
                symbol=entry.symbol,
                kind=entry.kind.value,
                action=entry.action,
                detail=entry.detail,
            )
        )

    def recent(self, limit: int = 50) -> list[RecoveryEntry]:
        query = select(RecoveryLogRow).order_by(RecoveryLogRow.id.desc()).limit(limit)
        return [
            RecoveryEntry(
                kind=RecoveryKind(r.kind),
                action=r.action,
                at=r.at,
                symbol=r.symbol,
                detail=r.detail,
            )
            for r in self._s.scalars(query)
        ]


class SqlWorkerRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def heartbeat(self, worker: WorkerProcess) -> None:
        row = self._s.get(WorkerProcessRow, worker.worker_id)
        if row is None:
            self._s.add(
                WorkerProcessRow(
                    worker_id=worker.worker_id,
                    hostname=worker.hostname,
                    pid=worker.pid,
                    started_at=worker.started_at,
                    last_heartbeat_at=worker.last_heartbeat_at,
                )
            )
            return
        row.last_heartbeat_at = worker.last_heartbeat_at
        row.stopped_at = None

    def stopped(self, worker_id: str, at: datetime) -> None:
        row = self._s.get(WorkerProcessRow, worker_id)
        if row is not None:
            row.stopped_at = at

    def all(self) -> list[WorkerProcess]:
        query = select(WorkerProcessRow).order_by(WorkerProcessRow.worker_id)
        return [_worker(row) for row in self._s.scalars(query)]

    def stale(self, heartbeat_before: datetime) -> list[WorkerProcess]:
        query = select(WorkerProcessRow).where(
            WorkerProcessRow.stopped_at.is_(None),
            WorkerProcessRow.last_heartbeat_at < heartbeat_before,
        )
        return [_worker(row) for row in self._s.scalars(query)]


def _worker(row: WorkerProcessRow) -> WorkerProcess:
    return WorkerProcess(
        worker_id=row.worker_id,
        hostname=row.hostname,
        pid=row.pid,
        started_at=row.started_at,
        last_heartbeat_at=row.last_heartbeat_at,
        stopped_at=row.stopped_at,
    )


class SqlReportRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def save_summary(self, s: DailySummary) -> None:
        self._s.merge(
            DailySummaryRow(
                trading_day=s.trading_day,
                realized_pnl=s.realized_pnl,
                unrealized_pnl=s.unrealized_pnl,
                commission=s.commission,
                tax=s.tax,
                trades=s.trades,
                wins=s.wins,
                losses=s.losses,
                win_rate=s.win_rate,
                profit_factor=s.profit_factor,
                max_drawdown=s.max_drawdown,
                per_strategy=s.per_strategy,
                created_at=_utcnow(),
            )
        )

    def summary(self, day: date) -> DailySummary | None:
        r = self._s.get(DailySummaryRow, day)
        if r is None:
            return None
        return DailySummary(
            trading_day=r.trading_day,
            realized_pnl=r.realized_pnl,
            unrealized_pnl=r.unrealized_pnl,
            commission=r.commission,
            tax=r.tax,
            trades=r.trades,
            wins=r.wins,
            losses=r.losses,
            win_rate=r.win_rate,
            profit_factor=r.profit_factor,
            max_drawdown=r.max_drawdown,
            per_strategy=r.per_strategy,
        )

    def save_settlement(self, s: DailySettlement) -> None:
        self._s.merge(
            DailySettlementRow(
                trading_day=s.trading_day,
                buy_amount=s.buy_amount,
                sell_amount=s.sell_amount,
                commission=s.commission,
                tax=s.tax,
                net_cash_flow=s.net_cash_flow,
                broker_cash_change=s.broker_cash_change,
                difference=s.difference,
                created_at=_utcnow(),
            )
        )

    def settlement(self, day: date) -> DailySettlement | None:
        r = self._s.get(DailySettlementRow, day)
        if r is None:
            return None
        return DailySettlement(
            trading_day=r.trading_day,
            buy_amount=r.buy_amount,
            sell_amount=r.sell_amount,
            commission=r.commission,
            tax=r.tax,
            broker_cash_change=r.broker_cash_change,
        )
