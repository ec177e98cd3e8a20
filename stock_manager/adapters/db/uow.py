"""The SQLAlchemy unit of work: one session, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from stock_manager.adapters.db.adjustments import SqlAdjustmentRepository
from stock_manager.adapters.db.instruments import SqlInstrumentRepository
from stock_manager.adapters.db.record_repositories import (
    SqlAuditLog,
    SqlMarketRepository,
    SqlRecoveryLog,
    SqlReportRepository,
    SqlWorkerRepository,
)
from stock_manager.adapters.db.repositories import (
    SqlFillRepository,
    SqlOrderRepository,
    SqlSymbolRepository,
)
from stock_manager.adapters.db.task_runs import SqlTaskRunRepository
from stock_manager.ports import (
    AdjustmentRepository,
    AuditLog,
    FillRepository,
    InstrumentRepository,
    MarketRepository,
    OrderRepository,
    RecoveryLog,
    ReportRepository,
    SymbolRepository,
    TaskRunRepository,
    WorkerRepository,
)


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — leaving the block without ``commit`` rolls back."""

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
    _audit: SqlAuditLog

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._factory()
        self._session = session
        self.symbols = SqlSymbolRepository(session)
        self.orders = SqlOrderRepository(session)
        self.fills = SqlFillRepository(session)
        self.adjustments = SqlAdjustmentRepository(session)
        self.market = SqlMarketRepository(session)
        self._audit = self.audit = SqlAuditLog(session)
        self.recovery = SqlRecoveryLog(session)
        self.workers = SqlWorkerRepository(session)
        self.reports = SqlReportRepository(session)
        self.task_runs = SqlTaskRunRepository(session)
        self.instruments = SqlInstrumentRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require()
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None

    @property
    def session(self) -> Session:
        return self._require()

    def commit(self) -> None:
        session = self._require()
        self._audit.flush()
        session.commit()

    def rollback(self) -> None:
        self._audit.discard()
        self._require().rollback()

    def _require(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self._session
