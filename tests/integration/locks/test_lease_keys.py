"""Every key the services lease fits the SQL lease table: the liquidation's own keys
(``__liquidation__`` and ``__liquidation__<symbol>``) are longer than a symbol, and on
PostgreSQL a 12-character column refused them, so a liquidation on the SQL backend failed."""

from __future__ import annotations

import pytest

from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.services.liquidation import LIQUIDATION_KEY


@pytest.mark.parametrize("db", ["postgres", "sqlite"])
def test_the_liquidation_keys_can_be_leased(request: pytest.FixtureRequest, db: str) -> None:
    url = str(request.getfixturevalue(f"{db}_url"))
    upgrade(url)
    locks = SqlLeaseLock(make_engine(url))
    for key in (LIQUIDATION_KEY, f"{LIQUIDATION_KEY}Q500001", "0000A0"):
        lease = locks.acquire(key, "worker-1", 5.0)
        assert lease is not None and lease.symbol == key and lease.fence > 0
        assert locks.release(lease)
