"""The database's side of fencing: the highest fence it holds, read when a lease store lost
its counters (a Redis restarted without persistence), so new fences start above it.

Read-only, one statement. ``symbol_states`` and ``orders`` are compare-and-set on their
fence; ``transitions`` records the fence of every write; ``symbol_leases`` holds the SQL
lease backend's counters (a cluster that once ran ``LOCK_BACKEND=sql``). None has an index
on ``fence``, so this scans them: it runs once per lost Redis, never on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

# The database's own clock in epoch milliseconds (as adapters/locks/sql.py reads it).
_NOW_MS = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
}
FENCED_TABLES = ("symbol_states", "orders", "transitions", "symbol_leases")


@dataclass(frozen=True, slots=True)
class FenceFloor:
    """``highest``: the highest fence any fenced table holds (0 when none does);
    ``now_ms``: the database clock when it was read, epoch milliseconds."""

    highest: int
    now_ms: int


def read_fence_floor(engine: Engine) -> FenceFloor:
    """One read of every fenced table's highest fence and of the database clock.

    Raises whatever the driver raises (database unreachable, schema not migrated): the
    caller grants no lease without it."""
    # Each MAX is NULL on an empty table; COALESCE each, so one empty table hides nothing
    # (SQLite's many-argument MAX and PostgreSQL's GREATEST treat NULL differently).
    highest = "COALESCE((SELECT MAX(fence) FROM {}), 0)"
    parts = ", ".join(highest.format(table) for table in FENCED_TABLES)
    greatest = "MAX" if engine.dialect.name == "sqlite" else "GREATEST"
    now_ms = _NOW_MS[engine.dialect.name]
    statement = text(f"SELECT {greatest}({parts}) AS highest, {now_ms} AS now_ms")
    with engine.connect() as conn:
        row = conn.execute(statement).one()
    return FenceFloor(int(row.highest), int(row.now_ms))
