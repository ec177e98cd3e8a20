"""The unit of work rolls back unless committed; state writes are compare-and-set."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from stock_manager.adapters.db.engine import make_session_factory
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.domain.errors import DuplicateOrder, StaleWrite
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import (
    Fill,
    Order,
    OrderEvent,
    OrderPurpose,
    OrderType,
    Side,
    idempotency_key,
)
from stock_manager.domain.records import Transition
from stock_manager.domain.trade import SymbolEvent, SymbolTrade

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def uow(migrated_engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(make_session_factory(migrated_engine))


def order(attempt: int = 0) -> Order:
    return Order(
        idempotency_key(DAY, "005930", Side.BUY, 1, attempt),
        DAY,
        "005930",
        Side.BUY,
        OrderType.LIMIT,
        10,
        71_500,
        OrderPurpose.ENTRY,
        fence=3,
    )


def test_leaving_without_commit_rolls_back(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.orders.add(order())
    with uow:
        assert uow.orders.find() == []


def test_an_exception_rolls_back(uow: SqlUnitOfWork) -> None:
    with pytest.raises(RuntimeError), uow:
        uow.orders.add(order())
        raise RuntimeError("boom")
    with uow:
        assert uow.orders.by_key(order().idempotency_key) is None


def test_commit_persists_with_aware_times(uow: SqlUnitOfWork) -> None:
    with uow:
        stored = uow.orders.add(order())
        uow.commit()
    with uow:
        loaded = uow.orders.get(stored.id or 0)
    assert loaded is not None and loaded.created_at is not None
    assert loaded.created_at.tzinfo is not None


def test_idempotency_key_is_unique(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.orders.add(order())
        with pytest.raises(DuplicateOrder):
            uow.orders.add(order())
        uow.orders.add(order(attempt=1))  # the session is still usable
        uow.commit()
    with uow:
        assert len(uow.orders.find(day=DAY)) == 2


def test_symbol_writes_check_state_version_and_fence(uow: SqlUnitOfWork) -> None:
    with uow:
        flat = uow.symbols.save(SymbolTrade("005930"), SymbolTrade("005930", fence=5))
        uow.commit()
    entering = flat.apply(SymbolEvent.BUY_SIGNAL, fence=6)
    with uow:
        saved = uow.symbols.save(flat, entering)
        uow.commit()
    assert saved.version == flat.version + 1
    with uow:  # a stale holder (older fence) writes nothing
        with pytest.raises(StaleWrite):
            uow.symbols.save(saved, replace(saved.apply(SymbolEvent.BUY_FILLED), fence=5))
        with pytest.raises(StaleWrite):  # a writer that read an old version writes nothing
            uow.symbols.save(flat, replace(entering, fence=7))


def test_order_writes_are_fenced(uow: SqlUnitOfWork) -> None:
    with uow:
        stored = uow.orders.add(order())
        uow.commit()
    with uow:
        with pytest.raises(StaleWrite):
            uow.orders.save(stored, replace(stored.apply(OrderEvent.ACCEPTED), fence=2))
        accepted = uow.orders.save(stored, stored.apply(OrderEvent.ACCEPTED, broker_order_no="1"))
        uow.commit()
    with uow:
        assert uow.orders.by_broker_no(DAY, "1") == replace(accepted, created_at=stored.created_at)


def test_fills_are_recorded_once(uow: SqlUnitOfWork) -> None:
    fill = Fill("0000000001:1", "005930", Side.BUY, 5, 71_500, NOW, commission=50)
    with uow:
        stored = uow.orders.add(order())
        assert uow.fills.add(stored.id or 0, fill) is True
        assert uow.fills.add(stored.id or 0, fill) is False
        uow.commit()
    with uow:
        assert uow.fills.for_day(DAY) == [fill]


def test_market_state_is_compare_and_set(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.market.save(DAY, MarketState.OFFLINE, MarketState.INITIALIZING, "test")
        with pytest.raises(StaleWrite):
            uow.market.save(DAY, MarketState.OFFLINE, MarketState.STOPPED, "stale")
        uow.commit()
    with uow:
        assert uow.market.get(DAY) is MarketState.INITIALIZING
        assert uow.market.reason(DAY) == "test"  # the dead-man switch lifts only its own halts
        assert uow.market.reason(DAY.replace(year=DAY.year - 1)) == ""


def test_audit_table_is_append_only(uow: SqlUnitOfWork, migrated_engine: Engine) -> None:
    with uow:
        uow.audit.record(Transition("symbol", "005930", "FLAT", "ENTERING", "buy_signal", NOW))
        uow.commit()
    for statement in ("UPDATE transitions SET event = 'x'", "DELETE FROM transitions"):
        with pytest.raises(DBAPIError, match="append-only"), migrated_engine.begin() as conn:
            conn.execute(text(statement))
    with uow:
        assert [t.event for t in uow.audit.recent()] == ["buy_signal"]


def test_instruments_are_stored_per_symbol(uow: SqlUnitOfWork) -> None:
    from decimal import Decimal

    from stock_manager.domain.instruments import Instrument, InstrumentKind, ListingMarket

    etf = Instrument("122630", InstrumentKind.ETF, ListingMarket.KOSPI, Decimal("2.00"), "레버리지")
    with uow:
        assert uow.instruments.get("122630") is None
        uow.instruments.save(etf, DAY)
        uow.commit()
    with uow:
        assert uow.instruments.get("122630") == (etf, DAY)
        uow.instruments.save(Instrument("122630", InstrumentKind.ETF, name="again"), DAY)
        uow.commit()
    with uow:
        stored = uow.instruments.get("122630")
        assert stored is not None and stored[0].name == "again"
