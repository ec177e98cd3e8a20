"""Repositories of what the system records about itself: the market state, the audit
trail, recoveries, workers and the daily reports."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import (
    DailySettlementRow,
    DailySummaryRow,
    MarketStateRow,
    RecoveryLogRow,
    TransitionRow,
    WorkerProcessRow,
)
from stock_manager.domain.errors import StaleWrite
from stock_manager.domain.market import MarketState
from stock_manager.domain.records import (
    DailySettlement,
    DailySummary,
    RecoveryEntry,
    RecoveryKind,
    Transition,
    WorkerProcess,
)

TRANSITIONS: Table = TransitionRow.__table__  # type: ignore[assignment]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlMarketRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, day: date) -> MarketState:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        return MarketState(row.state) if row else MarketState.OFFLINE

    def lock(self, day: date) -> MarketState:
        """``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite renders no ``FOR UPDATE``, and needs
        none: every transaction there begins ``IMMEDIATE`` and so holds the database's one
        write lock (``engine.py``)."""
        query = (
            select(MarketStateRow.state).where(MarketStateRow.trading_day == day).with_for_update()
        )
        state = self._s.execute(query).scalar()
        return MarketState(state) if state else MarketState.OFFLINE

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

    def reason(self, day: date) -> str:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        return row.reason if row else ""

    def set_opening_cash(self, day: date, cash: int) -> None:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        if row is not None:
            row.opening_cash = cash

    def opening_cash(self, day: date) -> int | None:
        row = self._s.get(MarketStateRow, day, populate_existing=True)
        return row.opening_cash if row else None


class SqlAuditLog:
    """Transitions wait in memory and go in one multi-row ``INSERT`` when the unit of work
    commits (a rollback drops them with everything else)."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._pending: list[dict[str, object]] = []

    def record(self, t: Transition) -> None:
        self._pending.append(
            {
                "at": t.at,
                "entity": t.entity,
                "entity_key": t.key,
                "from_state": t.from_state,
                "to_state": t.to_state,
                "event": t.event,
                "fence": t.fence,
                "actor": t.actor[:160],
                "detail": t.detail,
            }
        )

    def flush(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            self._s.execute(insert(TRANSITIONS), rows)

    def discard(self) -> None:
        self._pending.clear()

    def recent(self, limit: int = 50) -> list[Transition]:
        self.flush()
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
                broker_costs=s.broker_costs,
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
            broker_costs=r.broker_costs,
        )
