"""SQL leases on PostgreSQL and SQLite: one upsert takes an expired lease and bumps its fence.

Only the database clock is used, so worker clocks never matter. Rows stay after release so
a symbol's fence never goes backwards.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, TextClause, text

from stock_manager.ports import Lease

# The database's own clock in epoch milliseconds; ``NOW_MS`` in the statements below.
_NOW_MS = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
}


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class SqlLeaseLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        now = _NOW_MS[engine.dialect.name]

        def sql(template: str) -> TextClause:
            return text(template.replace("NOW_MS", now))

        self._acquire = sql(
            """
            INSERT INTO symbol_leases (symbol, owner, fence, acquired_at_ms, expires_at_ms)
            VALUES (:symbol, :owner, 1, NOW_MS, NOW_MS + :ttl_ms)
            ON CONFLICT (symbol) DO UPDATE SET
                owner = excluded.owner,
                fence = symbol_leases.fence + 1,
                acquired_at_ms = excluded.acquired_at_ms,
                expires_at_ms = excluded.expires_at_ms
            WHERE symbol_leases.expires_at_ms <= excluded.acquired_at_ms
            RETURNING fence, expires_at_ms
            """
        )
        self._renew = sql(
            """
            UPDATE symbol_leases SET expires_at_ms = NOW_MS + :ttl_ms
            WHERE symbol = :symbol AND owner = :owner AND fence = :fence
              AND expires_at_ms > NOW_MS
            RETURNING expires_at_ms
            """
        )
        self._release = sql(
            """
            UPDATE symbol_leases SET owner = NULL, expires_at_ms = NOW_MS
            WHERE symbol = :symbol AND owner = :owner AND fence = :fence
            """
        )
        self._held = sql(
            """
            SELECT symbol, owner, fence, expires_at_ms FROM symbol_leases
            WHERE owner IS NOT NULL AND expires_at_ms > NOW_MS ORDER BY symbol
            """
        )
        self._expired = sql(
            """
            SELECT symbol, owner, fence, expires_at_ms FROM symbol_leases
            WHERE owner IS NOT NULL AND expires_at_ms <= NOW_MS
            """
        )
        self._clear = sql(
            """
            UPDATE symbol_leases SET owner = NULL
            WHERE symbol = :symbol AND owner = :owner AND fence = :fence
            """
        )

    def _single(self) -> AbstractContextManager[Connection]:
        """One statement, one round trip: each lease statement is atomic on its own, so on
        PostgreSQL it runs in autocommit (no BEGIN/COMMIT); SQLite keeps BEGIN IMMEDIATE."""
        if self._engine.dialect.name == "postgresql":
            return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._engine.begin()

    def acquire(self, symbol: str, owner: str, ttl: float) -> Lease | None:
        with self._single() as conn:
            row = conn.execute(
                self._acquire, {"symbol": symbol, "owner": owner, "ttl_ms": int(ttl * 1000)}
            ).first()
        if row is None:
            return None
        return Lease(symbol, owner, int(row.fence), _moment(row.expires_at_ms))

    def renew(self, lease: Lease, ttl: float) -> Lease | None:
        with self._single() as conn:
            row = conn.execute(self._renew, _key(lease) | {"ttl_ms": int(ttl * 1000)}).first()
        if row is None:
            return None
        return Lease(lease.symbol, lease.owner, lease.fence, _moment(row.expires_at_ms))

    def release(self, lease: Lease) -> bool:
        with self._single() as conn:
            result = conn.execute(self._release, _key(lease))
        return bool(result.rowcount)

    def held(self) -> list[Lease]:
        with self._engine.connect() as conn:
            rows = conn.execute(self._held).all()
        return [Lease(r.symbol, r.owner, int(r.fence), _moment(r.expires_at_ms)) for r in rows]

    def sweep_expired(self) -> list[Lease]:
        released: list[Lease] = []
        with self._engine.begin() as conn:
            for r in conn.execute(self._expired).all():
                lease = Lease(r.symbol, r.owner, int(r.fence), _moment(r.expires_at_ms))
                if conn.execute(self._clear, _key(lease)).rowcount:
                    released.append(lease)
        return released


def _key(lease: Lease) -> dict[str, object]:
    return {"symbol": lease.symbol, "owner": lease.owner, "fence": lease.fence}
