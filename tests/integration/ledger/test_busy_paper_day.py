"""A busy day on the paper dialect: 1,500 orders in the day's history, 15 rows a page, the
gateway at 2 requests/s. The order history used to stop after 50 pages (750 rows) and an
order whose reply was lost was then "proven absent" and bought again (issue 12, item 1).
Every read is now complete and narrowed to the symbol, so the day still resolves and syncs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stock_manager.domain.orders import OrderStatus, OrderType, Side
from stock_manager.services.orders import Outcome, enter
from stock_manager.services.sync import sync_orders
from stock_manager.sim import matching
from tests.integration.ledger.stack import Stack

pytestmark = pytest.mark.slow
SEEDED = 1_500


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def sim_settings() -> dict[str, Any]:
    return {"env": "paper", "rate_limit": 2.0}  # KIS's paper gateway: 2 requests/s


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {
        "KIS_SIM_DIALECT": "paper",
        "KIS_RATE_LIMIT": "1.8",
        "KIS_TIMEOUT": "1.5",
        "UNIVERSE": "005930",  # paper has no volume ranking: the scan needs a universe
    }


def seed_history(stack: Stack, symbols: list[str]) -> None:
    """1,500 resting buys at the lower limit, placed inside the simulator (no requests)."""

    def place(ex: Any) -> None:
        ex.account.set_cash(10**13)
        now = ex.clock.now()
        for n in range(SEEDED):
            symbol = symbols[n % len(symbols)]
            lower = ex.markets[symbol].limits.lower
            request = matching.OrderRequest(symbol, Side.BUY, "00", 1, lower)
            ex.matching.place(request, now, ex.phase(now))

    stack.sim.call(place, timeout=60)
    assert len(stack.broker_orders()) == SEEDED


def test_an_order_whose_reply_was_lost_is_adopted_on_a_busy_paper_day(stack: Stack) -> None:
    symbols = [s["symbol"] for s in stack.admin("symbols")["symbols"]][:10]
    seed_history(stack, symbols)
    target = symbols[0]
    lower = int(stack.market(target)["lower"])
    stack.faults(order_timeout_rate=1.0, order_timeout_hang_s=2.0)  # placed, reply lost

    started = time.monotonic()
    sent = enter(stack.ctx, target, 2, lower, OrderType.LIMIT, "test")
    stack.faults()
    sync_orders(stack.ctx)  # and the 3-second sync, if the look-up at once was too early

    (ours,) = stack.orders(target)
    assert ours.status is OrderStatus.SUBMITTED, (sent, ours)  # found, never "proven absent"
    assert len(stack.broker_orders(target)) == SEEDED // 10 + 1  # and never sent twice
    assert time.monotonic() - started < 60
    assert sent.outcome in (Outcome.SUBMITTED, Outcome.UNKNOWN)


def test_an_order_the_broker_never_had_is_proven_absent_from_complete_reads(stack: Stack) -> None:
    symbols = [s["symbol"] for s in stack.admin("symbols")["symbols"]][:10]
    seed_history(stack, symbols)
    target = symbols[1]
    lower = int(stack.market(target)["lower"])
    stack.faults(http500_rate=1.0, paths=["order-cash"])  # refused, but nobody can tell
    assert enter(stack.ctx, target, 2, lower, OrderType.LIMIT, "test").outcome is Outcome.UNKNOWN
    stack.faults()
    time.sleep(stack.ctx.policy.unknown_propagation.total_seconds())

    sync_orders(stack.ctx)  # a complete read of the symbol's 150 rows: 10 pages on paper

    (ours,) = stack.orders(target)
    assert ours.status is OrderStatus.REJECTED
    assert len(stack.broker_orders(target)) == SEEDED // 10  # nothing of ours reached it
