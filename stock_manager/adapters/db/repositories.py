"""Repositories of the ledger (symbols, orders, fills): rows in, domain values out; every
state write is compare-and-set."""

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
    FillRow,
    OrderRow,
    SymbolStateRow,
)
from stock_manager.domain.errors import DuplicateOrder, StaleWrite
from stock_manager.domain.orders import Fill, Order, OrderPurpose, OrderStatus, OrderType, Side
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
