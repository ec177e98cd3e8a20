"""The whole of it: price checks under Redis leases keep working across a Redis restart
without persistence (issue 12, item 7).

The stack (simulator, PostgreSQL, the project's container) runs on a Redis of the test's
own, which is restarted mid-session: every lease, fence counter and the shared KIS token
in it are lost. The price-check task (run in-process, so its success or failure is
recorded as a worker records it) must go on marking the held symbol — before the fix its
first lease after the restart drew fence 1, the mark was a StaleWrite and the whole check
failed, run after run, until the dead-man switch halted entries. A worker started after
the restart must reach the broker with the token the database kept, without asking KIS.
"""

from __future__ import annotations

from typing import Any

import pytest

from stock_manager.config import get_settings
from stock_manager.domain.krx import ticks_away
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.services.health import PRICE_CHECK, dead_man_check
from stock_manager.services.leasing import symbol_lease
from tests.integration.kis.test_token_survives_redis import TokenRequests
from tests.integration.ledger.stack import LedgerContainer, Stack
from tests.integration.own_redis import OwnRedis

NAMESPACE = "sm:"


@pytest.fixture
def redis_url(own_redis: OwnRedis) -> str:
    """The stack's Redis is the test's own, which the test may restart."""
    return own_redis.url


@pytest.fixture
def redis_namespace() -> str:
    return NAMESPACE  # the server is ours alone: the production namespace


def run_price_check() -> Any:
    """The Celery task, in this process, through Celery's tracer (its signals record the
    run's success or failure in ``task_runs``, as in a worker)."""
    from tasks.prices import check_prices

    return check_prices.apply()


def test_price_checks_and_broker_access_survive_a_redis_restart(
    stack: Stack, own_redis: OwnRedis
) -> None:
    ctx = stack.ctx
    symbol = stack.admin("symbols")["symbols"][0]["symbol"]
    entry = int(stack.market(symbol)["prev_close"])
    stack.seed_symbol(
        SymbolTrade(
            symbol,
            SymbolState.HOLDING,
            10,
            10 * entry,
            trade_seq=1,
            entered_at=ctx.clock.now(),
            high_water=entry,
            last_price=entry,
        )
    )
    stack.admin("account", {"holdings": [{"symbol": symbol, "qty": 10, "avg_price": entry}]})
    requests = TokenRequests(stack.sim)

    def mark_at(steps: int) -> SymbolTrade:
        stack.admin("price", {"symbol": symbol, "path": [ticks_away(entry, steps)], "hold": True})
        result = run_price_check()
        assert result.successful(), result.traceback
        assert result.result == 1
        trade = stack.symbol(symbol)
        assert trade.last_price == ticks_away(entry, steps)
        return trade

    def fence() -> int:  # what an exit or a sync of the symbol would write under
        with symbol_lease(ctx, symbol) as lease:
            assert lease is not None
            return lease.fence

    for steps in (1, 2, 2, 2, 3):  # marks are one batched write, without a lease (issue 16)
        before = mark_at(steps)
    fenced = fence()
    assert before.state is SymbolState.HOLDING and fenced > 0
    assert requests.seen.count("issued") <= 1  # the stack's first call may have issued

    own_redis.restart()

    mark_at(4)
    after = fence()
    assert after > fenced  # above every fence written before Redis lost its counters
    mark_at(5)
    assert fence() > after
    with ctx.uow as uow:
        run = uow.task_runs.get(PRICE_CHECK)
    assert run is not None and run.failures == 0 and run.successes == 7
    assert not dead_man_check(ctx)

    issued_before = list(requests.seen)
    fresh = LedgerContainer(get_settings(), NAMESPACE)  # a worker started after the restart
    assert symbol in fresh.broker.quotes([symbol])
    assert fresh.kis.tokens.issued == 0
    assert requests.seen == issued_before, "the new worker asked KIS for a token"
    fresh.dispose()
