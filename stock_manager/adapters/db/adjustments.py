"""Position adjustments: shares that entered or left a position without a fill of ours."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import PositionAdjustmentRow
from stock_manager.adapters.db.repositories import dialect_insert
from stock_manager.domain.pnl import AdjustmentKind, PositionAdjustment

ADJUSTMENTS: Table = PositionAdjustmentRow.__table__  # type: ignore[assignment]


class SqlAdjustmentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, key: str, adjustment: PositionAdjustment) -> bool:
        """Record ``adjustment`` once under ``key``; ``False`` if that key was recorded."""
        added = self._s.execute(
            dialect_insert(self._s, ADJUSTMENTS)
            .values(
                key=key,
                trading_day=adjustment.at.date(),
                symbol=adjustment.symbol,
                quantity=adjustment.quantity,
                price=adjustment.price,
                kind=adjustment.kind.value,
                note=adjustment.note[:200],
                at=adjustment.at,
            )
            .on_conflict_do_nothing(index_elements=[ADJUSTMENTS.c.key])
            .returning(ADJUSTMENTS.c.id)
        ).first()
        return added is not None

    def for_day(self, day: date) -> list[PositionAdjustment]:
        query = (
            select(ADJUSTMENTS)
            .where(ADJUSTMENTS.c.trading_day == day)
            .order_by(ADJUSTMENTS.c.at, ADJUSTMENTS.c.id)
        )
        return [_adjustment(row) for row in self._s.execute(query)]


def _adjustment(row: Row[Any]) -> PositionAdjustment:
    return PositionAdjustment(
        row.symbol, row.quantity, row.price, row.at, AdjustmentKind(row.kind), row.note
    )
