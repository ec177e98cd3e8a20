"""Marks of a price check: one statement for all held symbols, and no state write they
could disturb or be undone by (issue 16, item 4)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event

from stock_manager.adapters.db.engine import make_session_factory
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.domain.trade import SymbolState, SymbolTrade

HELD = [f"{i:06d}" for i in range(1, 201)]


@pytest.fixture
def uow(migrated_engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(make_session_factory(migrated_engine))


def seed(uow: SqlUnitOfWork, *symbols: str, quantity: int = 10) -> None:
    with uow:
        for symbol in symbols:
            state = SymbolState.HOLDING if quantity else SymbolState.FLAT
            after = SymbolTrade(symbol, state, quantity, quantity * 1_000, fence=1)
            uow.symbols.save(SymbolTrade(symbol), replace(after, high_water=1_000))
        uow.commit()


def updates(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_two_hundred_marks_are_one_statement(uow: SqlUnitOfWork, migrated_engine: Engine) -> None:
    seed(uow, *HELD)
    seed(uow, "999999", quantity=0)  # flat: not marked
    seen = updates(migrated_engine)
    prices = {s: 900 + i * 2 for i, s in enumerate(HELD)} | {"999999": 5_000}
    with uow:
        assert uow.symbols.mark_prices(prices) == len(HELD)
        uow.commit()
    assert len(seen) == 1
    with uow:  # the same prices again: nothing to rewrite
        assert uow.symbols.mark_prices(prices) == 0
        uow.commit()
    with uow:
        rows = {t.symbol: t for t in uow.symbols.find()}
    for symbol in HELD:
        t = rows[symbol]
        assert (t.last_price, t.high_water) == (prices[symbol], max(1_000, prices[symbol]))
        assert (t.version, t.fence) == (1, 1)  # not a state write
    assert rows["999999"].last_price == 0


def test_a_state_write_keeps_a_mark_written_meanwhile(uow: SqlUnitOfWork) -> None:
    seed(uow, "005930")
    with uow:
        before = uow.symbols.get("005930")
    assert before is not None
    with uow:  # a price check marks while a lease holder is between its read and its write
        uow.symbols.mark_prices({"005930": 1_300})
        uow.commit()
    with uow:
        uow.symbols.save(before, replace(before, state=SymbolState.QUARANTINED, fence=2))
        uow.commit()
    with uow:
        after = uow.symbols.get("005930")
    assert after is not None and after.state is SymbolState.QUARANTINED
    assert (after.last_price, after.high_water) == (1_300, 1_300)


def test_a_state_write_may_still_lower_the_high_water_on_purpose(uow: SqlUnitOfWork) -> None:
    seed(uow, "005930")
    with uow:
        before = uow.symbols.get("005930")
        assert before is not None
        uow.symbols.save(before, replace(before, high_water=500, last_price=700, fence=2))
        uow.commit()
    with uow:
        after = uow.symbols.get("005930")
    assert after is not None and (after.high_water, after.last_price) == (500, 700)


def test_a_ticks_mark_keeps_to_its_round_trip(uow: SqlUnitOfWork) -> None:
    """``mark_high``: last price and a higher peak for the round trip the tick judged; none
    for another round trip or a flat symbol, and no version or fence change."""
    seed(uow, "000001")
    seed(uow, "000002", quantity=0)
    with uow:
        before = uow.symbols.get("000001")
        assert before is not None
        assert not uow.symbols.mark_high("000001", before.trade_seq + 1, 1_100, 1_200)
        assert not uow.symbols.mark_high("000002", 0, 1_100, 1_200)
        assert uow.symbols.mark_high("000001", before.trade_seq, 1_100, 1_200)
        assert not uow.symbols.mark_high("000001", before.trade_seq, 1_100, 1_150)  # nothing new
        uow.commit()
    with uow:
        after = uow.symbols.get("000001")
    assert after is not None
    assert (after.last_price, after.high_water) == (1_100, 1_200)
    assert (after.version, after.fence) == (before.version, before.fence)
