"""Task run bookkeeping: one upserted row per task name, safe under concurrent workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import TaskRunRow
from stock_manager.adapters.db.repositories import dialect_insert
from stock_manager.domain.records import TaskRun


class SqlTaskRunRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def succeeded(self, name: str, at: datetime, value: int | None = None) -> None:
        self._upsert(name, {"last_success_at": at, "last_value": value}, "successes")

    def failed(self, name: str, at: datetime) -> None:
        self._upsert(name, {"last_failure_at": at}, "failures")

    def get(self, name: str) -> TaskRun | None:
        row = self._s.get(TaskRunRow, name, populate_existing=True)
        return _run(row) if row else None

    def all(self) -> list[TaskRun]:
        query = select(TaskRunRow).order_by(TaskRunRow.name)
        return [_run(r) for r in self._s.scalars(query.execution_options(populate_existing=True))]

    def _upsert(self, name: str, values: dict[str, Any], counter: str) -> None:
        statement = dialect_insert(self._s, TaskRunRow).values(
            name=name, successes=0, failures=0, **values
        )
        column = getattr(TaskRunRow, counter)
        statement = statement.on_conflict_do_update(
            index_elements=[TaskRunRow.name], set_={**values, counter: column + 1}
        )
        self._s.execute(statement.values({counter: 1}))


def _run(row: TaskRunRow) -> TaskRun:
    return TaskRun(
        row.name,
        row.last_success_at,
        row.last_failure_at,
        row.last_value,
        row.successes,
        row.failures,
    )
