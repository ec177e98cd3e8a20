"""The relational schema. Alembic owns it: change it here and add a migration."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stock_manager.adapters.db.types import AwareDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: AwareDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("trading_day", "broker_order_no", name="uq_orders_broker_order"),
        Index("ix_orders_day_status", "trading_day", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    trading_day: Mapped[date] = mapped_column(Date)
    symbol: Mapped[str] = mapped_column(String(12), index=True)
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(2))
    purpose: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    broker_order_no: Mapped[str | None] = mapped_column(String(20))
    broker_branch: Mapped[str | None] = mapped_column(String(10))
    filled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    filled_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    reserve_price: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fence: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FillRow(Base):
    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    broker_fill_id: Mapped[str] = mapped_column(String(64), unique=True)
    symbol: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    filled_at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]


class PositionAdjustmentRow(Base):
    """Shares that entered or left a position without a fill of ours (``domain/pnl.py``)."""

    __tablename__ = "position_adjustments"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # a fix is recorded once
    trading_day: Mapped[date] = mapped_column(Date, index=True)
    symbol: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]


class SymbolStateRow(Base):
    """One row per symbol: its trade state and the position that follows from fills."""

    __tablename__ = "symbol_states"

    symbol: Mapped[str] = mapped_column(String(12), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[int] = mapped_column(BigInteger, default=0)
    average_price: Mapped[Decimal] = mapped_column(Numeric(20, 4), default=Decimal(0))
    fence: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    trade_seq: Mapped[int] = mapped_column(Integer, default=0)
    strategy: Mapped[str] = mapped_column(String(40), default="")
    entered_at: Mapped[datetime | None]
    high_water: Mapped[int] = mapped_column(BigInteger, default=0)
    last_price: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]


class SymbolLeaseRow(Base):
    """A per-symbol lease. Rows are kept after release so the fence never goes backwards;
    times are epoch milliseconds from the database's own clock."""

    __tablename__ = "symbol_leases"

    # a lease key: a symbol, or the liquidation's own keys (``__liquidation__<symbol>``)
    symbol: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(120))
    fence: Mapped[int] = mapped_column(BigInteger)
    acquired_at_ms: Mapped[int] = mapped_column(BigInteger)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class WorkerProcessRow(Base):
    __tablename__ = "worker_processes"

    worker_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    last_heartbeat_at: Mapped[datetime] = mapped_column(index=True)
    stopped_at: Mapped[datetime | None]


class DailySummaryRow(Base):
    __tablename__ = "daily_summaries"

    trading_day: Mapped[date] = mapped_column(Date, primary_key=True)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)
    unrealized_pnl: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    trades: Mapped[int] = mapped_column(Integer)
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    win_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    profit_factor: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_drawdown: Mapped[int] = mapped_column(BigInteger)
    per_strategy: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DailySettlementRow(Base):
    __tablename__ = "daily_settlements"

    trading_day: Mapped[date] = mapped_column(Date, primary_key=True)
    buy_amount: Mapped[int] = mapped_column(BigInteger)
    sell_amount: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    net_cash_flow: Mapped[int] = mapped_column(BigInteger)
    broker_cash_change: Mapped[int | None] = mapped_column(BigInteger)
    difference: Mapped[int | None] = mapped_column(BigInteger)
    broker_costs: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class InstrumentRow(Base):
    """Each symbol's instrument type and market as the broker lists them (issue 13)."""

    __tablename__ = "instruments"

    symbol: Mapped[str] = mapped_column(String(12), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    market: Mapped[str] = mapped_column(String(8))
    multiple: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    name: Mapped[str] = mapped_column(String(80), default="")
    read_on: Mapped[date] = mapped_column(Date)


class MarketStateRow(Base):
    __tablename__ = "market_states"

    trading_day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    opening_cash: Mapped[int | None] = mapped_column(BigInteger)  # D+2 cash when initialized
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class RecoveryLogRow(Base):
    __tablename__ = "recovery_logs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    symbol: Mapped[str | None] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]]


class TransitionRow(Base):
    """Append-only: triggers in the migration refuse UPDATE and DELETE."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_key: Mapped[str] = mapped_column(String(80))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(40))
    fence: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(160), default="")
    detail: Mapped[dict[str, Any]]


class TaskRunRow(Base):
    """When each task last succeeded or failed (dead-man switch, metrics)."""

    __tablename__ = "task_runs"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_value: Mapped[int | None] = mapped_column(BigInteger)
    successes: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)


class KisTokenRow(Base):
    """A KIS access token or approval key shared by the cluster, with its issuance lock.

    ``key`` is ``<env>:<kind>:<hash of the app key>``; ``generation`` counts issuances so a
    forced reissue happens once per generation (adapters/kis/tokens.py)."""

    __tablename__ = "kis_tokens"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    last_attempt_at: Mapped[datetime | None]
    lock_owner: Mapped[str | None] = mapped_column(String(160))
    lock_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]
