"""Repositories of the ledger (symbols, orders, fills): rows in, domain values out; every
state write is compare-and-set.

They speak SQLAlchemy Core, not the ORM: these statements sit on the path from a price
crossing a stop to the sell leaving, and a Core row costs a fraction of a mapped object.
The hot statements are built once, with bound parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Executable,
    Row,
    String,
    Table,
    bindparam,
    case,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import Base, FillRow, OrderRow, SymbolStateRow
from stock_manager.domain.errors import DuplicateOrder, StaleWrite
from stock_manager.domain.orders import Fill, Order, OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.trade import SymbolState, SymbolTrade

SYMBOLS: Table = SymbolStateRow.__table__  # type: ignore[assignment]
ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
FILLS: Table = FillRow.__table__  # type: ignore[assignment]

_SYMBOL = select(SYMBOLS).where(SYMBOLS.c.symbol == bindparam("key"))
_SYMBOL_CAS = update(SYMBOLS).where(
    SYMBOLS.c.symbol == bindparam("key"),
    SYMBOLS.c.state == bindparam("was_state"),
    SYMBOLS.c.version == bindparam("was_version"),
    SYMBOLS.c.fence <= bindparam("new_fence"),
)
# Marks of a price check: one statement for every held symbol. PostgreSQL joins two arrays
# (two parameters whatever the count); SQLite, in-process, runs one statement per row.
_MARKS = select(
    func.unnest(bindparam("symbols", type_=ARRAY(String))).label("symbol"),
    func.unnest(bindparam("prices", type_=ARRAY(BigInteger))).label("price"),
).subquery("marks")
_MARK_PG = (
    update(SYMBOLS)
    .where(
        SYMBOLS.c.symbol == _MARKS.c.symbol,
        SYMBOLS.c.quantity > 0,
        # a row that would not change is not rewritten (no dead tuple, no WAL)
        (SYMBOLS.c.last_price != _MARKS.c.price) | (SYMBOLS.c.high_water < _MARKS.c.price),
    )
    .values(
        last_price=_MARKS.c.price, high_water=func.greatest(SYMBOLS.c.high_water, _MARKS.c.price)
    )
)
_MARK_HIGH = (
    update(SYMBOLS)
    .where(
        SYMBOLS.c.symbol == bindparam("key"),
        SYMBOLS.c.trade_seq == bindparam("seq"),
        SYMBOLS.c.quantity > 0,
        (SYMBOLS.c.last_price != bindparam("price")) | (SYMBOLS.c.high_water < bindparam("high")),
    )
    .values(
        last_price=bindparam("price"),
        high_water=case(
            (SYMBOLS.c.high_water > bindparam("high"), SYMBOLS.c.high_water),
            else_=bindparam("high"),
        ),
    )
)
_MARK_ONE = (
    update(SYMBOLS)
    .where(
        SYMBOLS.c.symbol == bindparam("key"),
        SYMBOLS.c.quantity > 0,
        (SYMBOLS.c.last_price != bindparam("price")) | (SYMBOLS.c.high_water < bindparam("price")),
    )
    .values(
        last_price=bindparam("price"),
        high_water=case(
            (SYMBOLS.c.high_water > bindparam("price"), SYMBOLS.c.high_water),
            else_=bindparam("price"),
        ),
    )
)
# A symbol's CAS that never lowers a high a lease-free mark wrote meanwhile (``high``)
_SYMBOL_CAS_RAISING = _SYMBOL_CAS.values(
    high_water=case(
        (SYMBOLS.c.high_water > bindparam("high"), SYMBOLS.c.high_water), else_=bindparam("high")
    )
)
_ORDER = select(ORDERS).where(ORDERS.c.id == bindparam("key"))
_ORDER_CAS = (
    update(ORDERS)
    .where(
        ORDERS.c.id == bindparam("key"),
        ORDERS.c.status == bindparam("was_status"),
        ORDERS.c.filled_quantity == bindparam("was_filled"),
        ORDERS.c.fence <= bindparam("new_fence"),
    )
    .values(version=ORDERS.c.version + 1)
)
_ORDER_BY_KEY = select(ORDERS).where(ORDERS.c.idempotency_key == bindparam("key"))
_ORDER_BY_BROKER_NO = select(ORDERS).where(
    ORDERS.c.trading_day == bindparam("day"), ORDERS.c.broker_order_no == bindparam("no")
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(
    session: Session, table: Table | type[Base]
) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` in the session's dialect, so ``ON CONFLICT`` clauses are available."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@cache
def _insert_once(dialect: str, table: Table, unique: str, returning: str) -> Executable:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING returning``, built once per
    dialect: the values come as parameters (their keys name the columns), so SQLAlchemy
    compiles it once instead of building and keying a new statement per row."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c[unique]])
        .returning(table.c[returning])
    )


def _insert_new(session: Session, table: Table, unique: str, returning: str) -> Executable:
    return _insert_once(session.get_bind().dialect.name, table, unique, returning)


class SqlSymbolRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, symbol: str) -> SymbolTrade | None:
        row = self._s.execute(_SYMBOL, {"key": symbol}).first()
        return _symbol(row) if row else None

    def find(self, states: Sequence[SymbolState] | None = None) -> list[SymbolTrade]:
        query = select(SYMBOLS).order_by(SYMBOLS.c.symbol)
        if states is not None:
            query = query.where(SYMBOLS.c.state.in_([s.value for s in states]))
        return [_symbol(row) for row in self._s.execute(query).all()]  # one fetch, not N

    def save(self, before: SymbolTrade, after: SymbolTrade) -> SymbolTrade:
        values = _symbol_values(after)
        if before.version == 0:
            insert = _insert_new(self._s, SYMBOLS, "symbol", "symbol")
            created = self._s.execute(insert, {"symbol": after.symbol, "version": 1, **values})
            if created.first() is None:
                raise StaleWrite(f"symbol {after.symbol} was created concurrently")
            return _with_version(after, 1)
        statement, values = _keeping_marks(before, after, values)
        where = {
            "key": before.symbol,
            "was_state": before.state.value,
            "was_version": before.version,
            "new_fence": after.fence,
        }
        result = self._s.execute(statement, {**values, "version": before.version + 1, **where})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(
                f"symbol {before.symbol}: expected {before.state.value} v{before.version} "
                f"with fence <= {after.fence}; the lease was lost or the state moved on"
            )
        return _with_version(after, before.version + 1)

    def mark_prices(self, prices: Mapping[str, int]) -> int:
        if not prices:
            return 0
        if self._s.get_bind().dialect.name == "postgresql":
            result = self._s.execute(
                _MARK_PG, {"symbols": list(prices), "prices": list(prices.values())}
            )
        else:
            rows = [{"key": symbol, "price": price} for symbol, price in prices.items()]
            result = self._s.execute(_MARK_ONE, rows)
        return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_high(self, symbol: str, trade_seq: int, price: int, high: int) -> bool:
        values = {"key": symbol, "seq": trade_seq, "price": price, "high": high}
        return bool(self._s.execute(_MARK_HIGH, values).rowcount)  # type: ignore[attr-defined]


def _keeping_marks(
    before: SymbolTrade, after: SymbolTrade, values: dict[str, Any]
) -> tuple[Executable, dict[str, Any]]:
    """The CAS and its ``values``, less what would undo a concurrent lease-free mark (see
    the port): an unchanged last price is not written, and a high that does not fall (a
    new round trip resets it) is raised, never lowered."""
    if after.last_price == before.last_price:
        del values["last_price"]
    if after.high_water >= before.high_water:
        values["high"] = values.pop("high_water")
        return _SYMBOL_CAS_RAISING, values
    return _SYMBOL_CAS, values


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


def _symbol(row: Row[Any]) -> SymbolTrade:
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
        created = order.created_at or _utcnow()
        values = _order_values(order)
        values.update(version=1, created_at=created, updated_at=order.updated_at or created)
        insert = _insert_new(self._s, ORDERS, "idempotency_key", "id")
        order_id = self._s.execute(insert, values).scalar()
        if order_id is None:
            raise DuplicateOrder(f"order {order.idempotency_key} already exists")
        return replace(
            order, id=order_id, created_at=created, updated_at=order.updated_at or created
        )

    def get(self, order_id: int) -> Order | None:
        row = self._s.execute(_ORDER, {"key": order_id}).first()
        return _order(row) if row else None

    def by_key(self, idempotency_key: str) -> Order | None:
        return self._one(_ORDER_BY_KEY, {"key": idempotency_key})

    def by_broker_no(self, day: date, broker_order_no: str) -> Order | None:
        return self._one(_ORDER_BY_BROKER_NO, {"day": day, "no": broker_order_no})

    def _one(self, query: Executable, params: Mapping[str, Any]) -> Order | None:
        row = self._s.execute(query, params).first()
        return _order(row) if row else None

    def find(
        self,
        day: date | None = None,
        statuses: Sequence[OrderStatus] | None = None,
        symbol: str | None = None,
    ) -> list[Order]:
        params = {"day": day, "statuses": [s.value for s in statuses or ()], "symbol": symbol}
        query = _orders_where(day is not None, statuses is not None, symbol is not None)
        return [_order(row) for row in self._s.execute(query, params)]

    def save(self, before: Order, after: Order) -> Order:
        if before.id is None:
            raise ValueError("cannot update an order that was never added")
        values = _order_values(after)
        values["updated_at"] = after.updated_at or _utcnow()
        where = {
            "key": before.id,
            "was_status": before.status.value,
            "was_filled": before.filled_quantity,
            "new_fence": after.fence,
        }
        result = self._s.execute(_ORDER_CAS, {**values, **where})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(
                f"order {before.idempotency_key}: expected {before.status.value} with "
                f"{before.filled_quantity} filled and fence <= {after.fence}"
            )
        return after


@cache
def _orders_where(by_day: bool, by_status: bool, by_symbol: bool) -> Executable:
    """The orders matching what is given, oldest first: one statement per combination."""
    query = select(ORDERS).order_by(ORDERS.c.id)
    if by_day:
        query = query.where(ORDERS.c.trading_day == bindparam("day"))
    if by_status:
        query = query.where(ORDERS.c.status.in_(bindparam("statuses", expanding=True)))
    if by_symbol:
        query = query.where(ORDERS.c.symbol == bindparam("symbol"))
    return query


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
        "reserve_price": o.reserve_price,
        "fence": o.fence,
    }


def _order(row: Row[Any]) -> Order:
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
        reserve_price=row.reserve_price,
        fence=row.fence,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlFillRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, order_id: int, fill: Fill) -> bool:
        """``False`` if this broker fill was recorded before (its id is unique)."""
        values = {
            "order_id": order_id,
            "broker_fill_id": fill.broker_fill_id,
            "symbol": fill.symbol,
            "side": fill.side.value,
            "quantity": fill.quantity,
            "price": fill.price,
            "commission": fill.commission,
            "tax": fill.tax,
            "filled_at": fill.filled_at,
            "recorded_at": _utcnow(),
        }
        insert = _insert_new(self._s, FILLS, "broker_fill_id", "id")
        return self._s.execute(insert, values).first() is not None

    def for_order(self, order_id: int) -> list[Fill]:
        query = select(FILLS).where(FILLS.c.order_id == order_id).order_by(FILLS.c.id)
        return [_fill(row) for row in self._s.execute(query)]

    def for_day(self, day: date) -> list[Fill]:
        query = (
            select(FILLS)
            .join(ORDERS, ORDERS.c.id == FILLS.c.order_id)
            .where(ORDERS.c.trading_day == day)
            .order_by(FILLS.c.filled_at, FILLS.c.id)
        )
        return [_fill(row) for row in self._s.execute(query)]


def _fill(row: Row[Any]) -> Fill:
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
